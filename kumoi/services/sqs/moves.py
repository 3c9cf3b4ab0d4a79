"""Message move tasks (StartMessageMoveTask): redriving a dead-letter queue's messages.

A task moves the messages that were visible in the dead-letter queue when it started, in
batches, each batch one store transaction that re-checks the message is still visible there (a
receiver may take it meanwhile), either to the given destination or back to the queue each
message came from (its ``DeadLetterQueueSourceArn``). ``MaxNumberOfMessagesPerSecond`` paces the
batches. Tasks run as asyncio tasks of this process and are kept in memory: the messages they
moved are durable, the task list does not survive a restart.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError
from kumoi.services.sqs import limits
from kumoi.storage.meta.contract import MessageRecord, SqsRepository

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


@dataclass
class MoveTask:
    handle: str
    source_arn: str
    source_queue_id: int
    destination_arn: str | None
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = RUNNING
    failure: str | None = None
    runner: asyncio.Task[None] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status == RUNNING:
            entry["TaskHandle"] = self.handle
        if self.destination_arn is not None:
            entry["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            entry["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure is not None:
            entry["FailureReason"] = self.failure
        return entry


class MoveTasks:
    """The tasks of this process, newest last per source queue."""

    def __init__(self, repository: SqsRepository, clock: Clock, moved: Callable[[int], None]) -> None:
        self._repository = repository
        self._clock = clock
        self._moved = moved
        self._tasks: dict[str, MoveTask] = {}
        self._by_source: dict[str, list[MoveTask]] = {}

    def running(self, source_arn: str) -> bool:
        return any(task.status in (RUNNING, CANCELLING) for task in self._by_source.get(source_arn, []))

    def start(
        self,
        source_arn: str,
        source_queue_id: int,
        destination_arn: str | None,
        rate: int | None,
        to_move: int,
        destination: Destination,
    ) -> MoveTask:
        handle = base64.b64encode(
            json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
        ).decode()
        task = MoveTask(
            handle, source_arn, source_queue_id, destination_arn, rate, self._clock.now_ms(), to_move
        )
        self._tasks[handle] = task
        self._by_source.setdefault(source_arn, []).append(task)
        task.runner = asyncio.get_running_loop().create_task(
            self._run(task, destination), name="sqs message move"
        )
        return task

    def listed(self, source_arn: str, limit: int) -> list[MoveTask]:
        return list(reversed(self._by_source.get(source_arn, [])))[:limit]

    def cancel(self, handle: str) -> MoveTask:
        task = self._tasks.get(handle)
        if task is None or task.status != RUNNING:
            raise task_not_found()
        task.status = CANCELLING
        return task

    async def _run(self, task: MoveTask, destination: Destination) -> None:
        try:
            await self._move_all(task, destination)
        except Exception as exc:  # the task fails; the server goes on
            task.status, task.failure = FAILED, f"{type(exc).__name__}: {exc}"
            return
        task.status = CANCELLED if task.status == CANCELLING else COMPLETED

    async def _move_all(self, task: MoveTask, destination: Destination) -> None:
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
            task.moved += await self._repository.move_messages(task.source_queue_id, moves, now)
            for target in {target for _sequence, target in moves}:
                self._moved(target)
            if task.rate is not None:
                await asyncio.sleep(max(len(batch) / task.rate - (time.monotonic() - began), 0.0))
            else:
                await asyncio.sleep(0)
