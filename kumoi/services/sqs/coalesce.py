"""Concurrent sends to one queue share one store write.

Group commit already lets concurrent writes share one fsync; this goes a step further for the
hottest write. SendMessage and SendMessageBatch calls for the same queue that reach the provider
within one turn of the event loop are handed to the store as a single ``send`` (one write job:
one queue check, one multi-row insert), and each caller gets its own slice of the result, in
order, so deduplication between them works exactly as if they had been stored one after the
other. If the combined write fails, every caller gets that exception, as each would have alone
(the queue is gone, the store is closed).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from kumoi.storage.meta.contract import MessageRecord

#: (message id, sequence number) of each stored message.
Stored = list[tuple[str, int]]
_Waiter = tuple[list[MessageRecord], "asyncio.Future[Stored]"]


class SendCoalescer:
    """Combines the sends to each queue that arrive in the same event loop turn."""

    def __init__(self, send: Callable[[int, list[MessageRecord]], Awaitable[Stored]]) -> None:
        self._send = send
        self._waiting: dict[int, list[_Waiter]] = {}

    async def send(self, queue_id: int, records: list[MessageRecord]) -> Stored:
        waiting = self._waiting.get(queue_id)
        if waiting is None:
            loop = asyncio.get_running_loop()
            waiting = self._waiting[queue_id] = []
            loop.call_soon(self._flush, queue_id)
        else:
            # The loop of this turn's first sender (get_running_loop() costs a getpid() call).
            loop = waiting[0][1].get_loop()
        future: asyncio.Future[Stored] = loop.create_future()
        waiting.append((records, future))
        return await future

    def _flush(self, queue_id: int) -> None:
        waiting = self._waiting.pop(queue_id)
        combined = [record for records, _future in waiting for record in records]
        write = asyncio.ensure_future(self._send(queue_id, combined))
        write.add_done_callback(functools.partial(_hand_out, waiting))


def _hand_out(waiting: list[_Waiter], write: asyncio.Future[Stored]) -> None:
    if write.cancelled():
        for _records, future in waiting:
            future.cancel()
        return
    error = write.exception()
    offset = 0
    for records, future in waiting:
        start, offset = offset, offset + len(records)
        if future.done():  # its caller went away (cancelled)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(write.result()[start:offset])
