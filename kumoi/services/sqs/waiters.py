"""Long polling: receivers wait on their queue and are woken as soon as a message is sent to it."""

from __future__ import annotations

import asyncio
import contextlib


class QueueWaiters:
    """One event per queue with waiting receivers; a send sets it and the next wait makes a new one."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def notify(self, queue_id: int) -> None:
        event = self._events.pop(queue_id, None)
        if event is not None:
            event.set()

    async def wait(self, queue_id: int, seconds: float) -> None:
        """Return when a message is sent to the queue or after ``seconds``."""
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
