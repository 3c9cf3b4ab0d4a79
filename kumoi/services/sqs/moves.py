"""Message move tasks (StartMessageMoveTask): redriving a dead-letter queue's messages.

A task moves the messages that were visible in the dead-letter queue when it started, in
batches, each batch one store transaction that re-checks the message is still visible there (a
receiver may take it meanwhile) and adds to the task's moved count, either to the given
destination or back to the queue each message came from (its ``DeadLetterQueueSourceArn``).
``MaxNumberOfMessagesPerSecond`` paces the batches.

Tasks live in the metadata store: their status and progress survive a restart, and the provider
resumes every task that was running (or being cancelled) when the server stopped. The store
keeps the ten most recent tasks per source queue, which is what ListMessageMoveTasks shows.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError
from kumoi.services.sqs import limits
from kumoi.storage.meta.contract import MessageRecord, MoveTaskRecord, SqsRepository

#: Messages moved per transaction.
MOVE_BATCH = 100
RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED = (
    "RUNNING",
    "COMPLETED",
    "CANCELLING",
    "CANCELLED",
    "FAILED",
)

#: Finds the destination queue id of a message (None: its source queue is gone).
Destination = Callable[[MessageRecord], Awaitable[int | None]]


def task_not_found() -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        "The resource that you specified for the TaskHandle parameter doesn't exist.",
        status=404,
    )


def describe(task: MoveTaskRecord) -> dict[str, Any]:
    """A task as ListMessageMoveTasks shows it (the handle only while it runs)."""
    entry: dict[str, Any] = {
        "Status": task.status,
        "SourceArn": task.source_arn,
        "ApproximateNumberOfMessagesMoved": task.moved,
        "ApproximateNumberOfMessagesToMove": task.to_move,
        "StartedTimestamp": task.started_ms,
    }
    if task.status == RUNNING:
        entry["TaskHandle"] = task.handle
    if task.destination_arn is not None:
        entry["DestinationArn"] = task.destination_arn
    if task.rate is not None:
        entry["MaxNumberOfMessagesPerSecond"] = task.rate
    if task.failure is not None:
        entry["FailureReason"] = task.failure
    return entry


class MoveTasks:
    """Runs this process's move tasks; their records live in the store."""

    def __init__(self, repository: SqsRepository, clock: Clock, moved: Callable[[int], None]) -> None:
        self._repository = repository
        self._clock = clock
        self._moved = moved
        #: The running tasks by handle: their current record and the asyncio task moving.
        self._active: dict[str, tuple[MoveTaskRecord, asyncio.Task[None]]] = {}
        #: Source queues whose new task is being stored (not yet in ``_active``).
        self._starting: set[str] = set()

    def running(self, source_arn: str) -> bool:
        """Whether the source queue has an active task. Every active task is in this process
        (resumed at start-up), so this needs no store read, and :meth:`start` claims the source
        before its first await: two starts racing cannot both pass this check."""
        return source_arn in self._starting or any(
            task.source_arn == source_arn for task, _runner in self._active.values()
        )

    async def start(
        self,
        source_arn: str,
        source_queue_id: int,
        destination_arn: str | None,
        rate: int | None,
        to_move: int,
        destination: Destination,
    ) -> MoveTaskRecord:
        """Store and launch a task; the caller checked :meth:`running` just before (no await between)."""
        self._starting.add(source_arn)
        handle = base64.b64encode(
            json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
        ).decode()
        task = MoveTaskRecord(
            handle, source_arn, source_queue_id, destination_arn, rate, self._clock.now_ms(), to_move
        )
        try:
            await self._repository.create_move_task(task, limits.MAX_MOVE_TASKS_LISTED)
            self._launch(task, destination)
        finally:
            self._starting.discard(source_arn)
        return task

    async def resume(self, task: MoveTaskRecord, destination: Destination) -> None:
        """Go on with a task the previous run of the server left active."""
        if task.status == CANCELLING:
            await self._repository.update_move_task(task.handle, CANCELLED, task.failure)
        else:
            self._launch(task, destination)

    async def listed(self, source_arn: str, limit: int) -> list[MoveTaskRecord]:
        return await self._repository.list_move_tasks(source_arn, limit)

    async def cancel(self, handle: str) -> MoveTaskRecord:
        active = self._active.get(handle)
        if active is None or active[0].status != RUNNING:
            raise task_not_found()
        task = active[0]
        task.status = CANCELLING
        await self._repository.update_move_task(handle, CANCELLING, task.failure)
        return task

    def _launch(self, task: MoveTaskRecord, destination: Destination) -> None:
        runner = asyncio.get_running_loop().create_task(self._run(task, destination), name="sqs message move")
        self._active[task.handle] = (task, runner)

    async def _run(self, task: MoveTaskRecord, destination: Destination) -> None:
        try:
            try:
                await self._move_all(task, destination)
            except Exception as exc:  # the task fails; the server goes on
                task.status, task.failure = FAILED, f"{type(exc).__name__}: {exc}"
            else:
                task.status = CANCELLED if task.status == CANCELLING else COMPLETED
            await self._repository.update_move_task(task.handle, task.status, task.failure)
        finally:
            self._active.pop(task.handle, None)

    async def _move_all(self, task: MoveTaskRecord, destination: Destination) -> None:
        while task.moved < task.to_move and task.status == RUNNING:
            began = time.monotonic()
            wanted = min(MOVE_BATCH, task.to_move - task.moved, task.rate or limits.MAX_MOVE_RATE)
            now = self._clock.now()
            batch = await self._repository.peek_visible(task.source_queue_id, now, wanted)
            if not batch:
                return
            moves: list[tuple[int, int]] = []
            for message in batch:
                target = await destination(message)
                if target is None:
                    task.failure = "The source queue of a message no longer exists."
                    continue
                assert message.sequence is not None
                moves.append((message.sequence, target))
            if not moves:
                raise RuntimeError(task.failure)
            task.moved += await self._repository.move_task_messages(
                task.handle, task.source_queue_id, moves, now
            )
            for target in {target for _sequence, target in moves}:
                self._moved(target)
            if task.rate is not None:
                await asyncio.sleep(max(len(batch) / task.rate - (time.monotonic() - began), 0.0))
            else:
                await asyncio.sleep(0)
