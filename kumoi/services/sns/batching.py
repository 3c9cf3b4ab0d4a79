"""Coalescing the SQS deliveries of concurrent publishes.

A standard topic's publish stores its SQS deliveries in their queues before it is answered (see
:meth:`~kumoi.services.sns.outbox.Outbox.deliver_now`). Under load many publishes to one topic
run in the same turn of the event loop, and one :meth:`QueueDelivery.deliver` call each would
cost a store job and the queue's per-call work for every message. :class:`QueueBatcher` gathers
the deliveries to one (queue, topic) made during a turn of the loop and sends them in one call
(up to :data:`MAX_BATCH` messages) on the next: a lone publish waits for no timer, and calls are
never held behind one another, so the writer thread's group commit takes every call that is
ready.

A call the queue refuses (``ServiceError``) is retried publish by publish, so a message the queue
cannot take (too large for it, say) fails only its own publish's delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from kumoi.core.delivery import DeliverySource, OutgoingMessage, QueueDelivery
from kumoi.core.errors import ServiceError

#: Most messages in one delivery call.
MAX_BATCH = 100

_Waiting = tuple[list[OutgoingMessage], "asyncio.Future[None]"]


class QueueBatcher:
    def __init__(self, queues: QueueDelivery) -> None:
        self._queues = queues
        self._waiting: dict[tuple[str, str], list[_Waiting]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(
        self, queue: str, sender: DeliverySource, messages: list[OutgoingMessage]
    ) -> asyncio.Future[None]:
        """Store ``messages`` in ``queue``: the future resolves once they are durably stored, or
        fails with the ``ServiceError`` the queue refused them with. (A future rather than a
        coroutine, so a publish to several queues awaits them all without a task each.)"""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        key = (queue, sender.source_arn)
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = []
            self._spawn(self._flush(key, queue, sender))
        waiting.append((messages, done))
        return done

    async def _flush(self, key: tuple[str, str], queue: str, sender: DeliverySource) -> None:
        """Send what was gathered for ``key`` (this task starts on the loop's next turn)."""
        waiting = self._waiting.pop(key)
        batch = _take(waiting)
        while waiting:
            self._spawn(self._send(queue, sender, _take(waiting)))
        await self._send(queue, sender, batch)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, queue: str, sender: DeliverySource, batch: list[_Waiting]) -> None:
        try:
            messages = [message for part, _done in batch for message in part]
            await self._queues.deliver(queue, messages, source=sender)
        except ServiceError as error:
            if len(batch) == 1:
                _settle(batch, error)
            else:
                for one in batch:
                    await self._send(queue, sender, [one])
        except Exception as error:
            _settle(batch, error)
        else:
            _settle(batch, None)
        finally:
            if not all(done.done() for _messages, done in batch):  # cancelled: kumoi is stopping
                _settle(batch, ServiceError("ServiceUnavailable", "kumoi is stopping", status=503))


def _take(waiting: list[_Waiting]) -> list[_Waiting]:
    """Remove and return the oldest waiting deliveries: up to :data:`MAX_BATCH` messages, and at
    least one delivery."""
    count = 0
    for index, (messages, _done) in enumerate(waiting):
        count += len(messages)
        if count > MAX_BATCH and index:
            taken = waiting[:index]
            del waiting[:index]
            return taken
    taken = waiting[:]
    waiting.clear()
    return taken


def _settle(batch: list[_Waiting], error: BaseException | None) -> None:
    """Resolve the deliveries of ``batch`` not resolved yet (their publishers may be gone)."""
    for _messages, done in batch:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
