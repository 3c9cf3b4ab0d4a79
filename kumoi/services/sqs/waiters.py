"""Long polling: receivers wait on their queue and are woken as soon as something may be there.

A receiver takes the queue's current event with :meth:`QueueWaiters.watch` *before* it looks for
messages; whatever is sent (or becomes visible by a visibility change, a delete that unblocks a
FIFO group, a redrive) after that moment sets that event. So a message that arrives between an
empty receive and the wait is never missed, and no receiver polls on a timer: the provider waits
until the event or the next moment a message becomes visible, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib


class QueueWaiters:
    """One event per queue with waiting receivers; a notify sets it and the next watch makes a new one."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def watch(self, queue_id: int) -> asyncio.Event:
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        return event

    def notify(self, queue_id: int) -> None:
        event = self._events.pop(queue_id, None)
        if event is not None:
            event.set()

    @staticmethod
    async def wait(event: asyncio.Event, seconds: float) -> None:
        """Return when ``event`` is set or after ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
