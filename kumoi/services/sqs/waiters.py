"""Long polling: receivers wait on their queue, are woken as soon as something may be there, and
on standard queues are handed fresh messages by the send that stores them.

A receiver registers a :class:`Waiter` with :meth:`QueueWaiters.watch` *before* it looks for
messages; whatever is sent (or becomes visible by a visibility change, a delete that unblocks a
FIFO group, a redrive) after that moment resolves the waiter's future (:meth:`QueueWaiters.notify`).
So a message that arrives between an empty receive and the wait is never missed, and no receiver
polls on a timer: the provider waits until the waiter is woken or the next moment a message becomes
visible, whichever comes first.

**Handoff.** Once its receive found nothing, a receiver of a standard queue *arms* its waiter with
its ``MaxNumberOfMessages`` and visibility timeout. A send to the queue then claims its
immediately visible messages for the armed waiters, longest waiting first, before they are
written (:meth:`QueueWaiters.hand_out`): they are stored already received (receipt, receive count
1, hidden for the waiter's visibility timeout), in the send's own transaction. The waiter gets them
when that commit is durable, so a long-polled message costs one commit instead of two (the
send's and a receive's), and the receiver answers a full event-loop round trip sooner. A waiter
taken by a send waits for that send's outcome even past its own deadline (the commit is already
under way); if the send fails, the waiter looks again with an ordinary receive. Messages handed
to a receiver that went away (its request was cancelled) are given back at once through the
``release`` callback (made visible again; their receive count keeps the receive, as a receive
whose response was lost does on AWS).

FIFO queues never hand off: their receives claim whole message groups in order, which only the
store's receive job does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from kumoi.core import secret_bytes
from kumoi.storage.meta.contract import MessageRecord

#: Random bytes in a receipt token (as the store's receive issues them).
RECEIPT_BYTES = 24

#: What a waiter's future resolves with: the messages handed to it, or None ("look again").
Outcome = list[MessageRecord] | None
#: Gives messages handed to a receiver that went away back to the queue.
Release = Callable[[int, list[MessageRecord]], None]


@dataclass(eq=False, slots=True)
class Waiter:
    """One long-polling receive waiting on one queue."""

    future: asyncio.Future[Outcome]
    #: Most messages a send may hand to it; 0 while it is not armed (wake-up only).
    limit: int = 0
    visibility: float = 0.0
    taken: list[MessageRecord] = field(default_factory=list)


class QueueWaiters:
    """The waiting receivers of each queue, in arrival order."""

    def __init__(self, release: Release) -> None:
        self._waiting: dict[int, dict[Waiter, None]] = {}
        self._release = release

    def watch(self, queue_id: int) -> Waiter:
        """Register a waiter: anything that may make a message available from now on wakes it."""
        waiter = Waiter(asyncio.get_running_loop().create_future())
        self._waiting.setdefault(queue_id, {})[waiter] = None
        return waiter

    def notify(self, queue_id: int) -> None:
        """Wake every waiter of the queue that no send has taken (they look again)."""
        waiting = self._waiting.pop(queue_id, None)
        if waiting:
            for waiter in waiting:
                if not waiter.future.done():
                    waiter.future.set_result(None)

    def withdraw(self, queue_id: int, waiter: Waiter) -> bool:
        """Unregister a waiter; False when it was no longer registered (woken, or taken by a send
        whose outcome is on its way)."""
        waiting = self._waiting.get(queue_id)
        if waiting is None or waiter not in waiting:
            return False
        del waiting[waiter]
        if not waiting:
            del self._waiting[queue_id]
        return True

    @staticmethod
    def arm(waiter: Waiter, limit: int, visibility: float) -> None:
        """Let sends hand up to ``limit`` messages to ``waiter``, hidden for ``visibility`` s."""
        waiter.limit = limit
        waiter.visibility = visibility

    async def wait(self, queue_id: int, waiter: Waiter, seconds: float) -> Outcome:
        """Wait until ``waiter`` is woken or handed messages, or ``seconds`` passed; return the
        messages handed to it, or None."""
        future = waiter.future
        try:
            if not future.done():
                await asyncio.wait((future,), timeout=seconds)
            if not future.done() and self.withdraw(queue_id, waiter):
                return None
            return await future
        except asyncio.CancelledError:
            self.withdraw(queue_id, waiter)
            if not future.cancel() and not future.cancelled() and future.result():
                self._release(queue_id, waiter.taken)
            raise

    def hand_out(self, queue_id: int, records: list[MessageRecord], now: float) -> list[Waiter]:
        """Claim the visible ``records`` of a send for the queue's armed waiters (called before
        the records are stored); return the waiters taken, for :meth:`settle`."""
        waiting = self._waiting.get(queue_id)
        if not waiting:
            return []
        fresh = [record for record in records if record.visible_at <= now and record.receipt is None]
        taken: list[Waiter] = []
        for waiter in list(waiting):
            if not fresh:
                break
            if not waiter.limit or waiter.future.done():
                continue
            mine, fresh = fresh[: waiter.limit], fresh[waiter.limit :]
            for record in mine:
                record.receipt = secret_bytes.token_urlsafe(RECEIPT_BYTES)
                record.receive_count = 1
                record.first_received_at = now
                record.visible_at = now + waiter.visibility
            waiter.taken = mine
            del waiting[waiter]
            taken.append(waiter)
        if not waiting:
            self._waiting.pop(queue_id, None)
        return taken

    def settle(self, queue_id: int, taken: list[Waiter], stored: bool) -> None:
        """The send that took ``taken`` finished: hand them their messages (``stored``), or let
        them look again; give back what a receiver that went away was handed."""
        for waiter in taken:
            if waiter.future.cancelled():
                if stored:
                    self._release(queue_id, waiter.taken)
            elif not waiter.future.done():
                waiter.future.set_result(waiter.taken if stored else None)
