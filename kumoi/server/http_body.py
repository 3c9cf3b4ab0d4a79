"""The request body as the handler reads it: a :class:`~kumoi.core.streams.BodyStream` fed by the parser.

The connection pushes de-chunked body bytes in with :meth:`RequestBody.feed` as they arrive; the
handler pulls them out with ``await read(n)``. The two meet in a deque of the received ``bytes``
objects, handed out without copying whenever a whole one fits in ``n``.

Backpressure: the body tells its :class:`BodyOwner` (the connection) when more than the high-water
mark is buffered, and the connection stops reading the socket; once a read brings the buffer
below the low-water mark, the connection may resume. So a fast client and a slow consumer (disk,
hashing) hold at most about ``high_water`` bytes per connection in memory.

``Expect: 100-continue``: the interim response is sent on the first read that finds no data, so a
handler that rejects the request without reading never invites the body.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from kumoi.core.errors import ServiceError
from kumoi.core.streams import DEFAULT_CHUNK


class BodyOwner(Protocol):
    """What a body needs from its connection."""

    def body_paused(self, body: RequestBody) -> None:
        """More than the high-water mark is buffered: stop reading the socket."""

    def body_drained(self, body: RequestBody) -> None:
        """The buffer fell below the low-water mark: reading may resume."""

    def send_continue(self) -> None:
        """Write ``HTTP/1.1 100 Continue``."""


def incomplete_body() -> ServiceError:
    return ServiceError(
        code="IncompleteBody",
        message="The client closed the connection before sending the whole request body.",
        status=400,
    )


def malformed_body() -> ServiceError:
    return ServiceError(code="BadRequest", message="The HTTP request body is malformed.", status=400)


def body_timeout() -> ServiceError:
    """S3's answer when the client stops sending mid-body."""
    return ServiceError(
        code="RequestTimeout",
        message="Your socket connection to the server was not read from or written to within "
        "the timeout period. Idle connections will be closed.",
        status=400,
    )


class RequestBody:
    """One request's body stream. Not thread-safe: used on the event loop only."""

    __slots__ = (
        "_asked_continue",
        "_chunks",
        "_complete",
        "_content_length",
        "_continue_sent",
        "_error",
        "_expect_continue",
        "_high_water",
        "_low_water",
        "_offset",
        "_owner",
        "_paused",
        "_timeout",
        "_waiter",
        "buffered",
        "received",
    )

    def __init__(
        self,
        owner: BodyOwner,
        content_length: int | None,
        *,
        complete: bool,
        expect_continue: bool,
        high_water: int,
        timeout: float,
    ) -> None:
        self._owner = owner
        self._content_length = content_length
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of _chunks[0] already handed out
        self._complete = complete
        self._error: ServiceError | None = None
        self._expect_continue = expect_continue and not complete
        self._asked_continue = expect_continue
        self._continue_sent = False
        self._waiter: asyncio.Future[None] | None = None
        self._high_water = high_water
        self._low_water = high_water // 4
        self._paused = False
        self._timeout = timeout
        self.buffered = 0
        self.received = 0

    @property
    def content_length(self) -> int | None:
        return self._content_length

    @property
    def complete(self) -> bool:
        """The parser has seen the end of the body (it may still be buffered)."""
        return self._complete

    @property
    def consumed(self) -> bool:
        """Every byte of the body has been handed out (or discarded)."""
        return self._complete and not self._chunks

    @property
    def failed(self) -> bool:
        """The body ended in an error (client gone, stalled or malformed)."""
        return self._error is not None

    @property
    def continue_owed(self) -> bool:
        """The client asked for ``100 Continue``, never got it, and has nothing more to send (an
        empty body, or it gave up waiting). botocore keeps a connection's response parsing tied to a
        final status that came without the interim one, so the edge sends the 100 first anyway."""
        return self._asked_continue and not self._continue_sent and self._complete

    @property
    def continue_pending(self) -> bool:
        """The client waits for ``100 Continue`` before it sends the body."""
        return self._expect_continue

    def feed(self, data: bytes) -> None:
        # The client has started sending without waiting: a 100 Continue now would arrive in the
        # middle of its body (RFC 9110 lets the server omit it once content has been received).
        self._expect_continue = False
        self._chunks.append(data)
        self.buffered += len(data)
        self.received += len(data)
        if self.buffered > self._high_water and not self._paused:
            self._paused = True
            self._owner.body_paused(self)
        self._wake()

    def finish(self) -> None:
        self._complete = True
        self._expect_continue = False
        self._wake()

    def fail(self, error: ServiceError) -> None:
        """End the stream with ``error`` (client gone): pending and later reads raise it."""
        if not self._complete and self._error is None:
            self._error = error
            self._wake()

    def discard_buffered(self) -> None:
        """Drop what is buffered (the handler is done with the body)."""
        self._chunks.clear()
        self._offset = 0
        self.buffered = 0
        self._release()

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        while not self._chunks:
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            if self._expect_continue:
                self._expect_continue = False
                self._continue_sent = True
                self._owner.send_continue()
            await self._wait()
        chunk = self._chunks[0]
        offset = self._offset
        remaining = len(chunk) - offset
        if remaining <= n:
            self._chunks.popleft()
            self._offset = 0
            if offset:
                chunk = chunk[offset:]
        else:
            self._offset = offset + n
            chunk = chunk[offset : offset + n]
            remaining = n
        self.buffered -= remaining
        if self._paused and self.buffered < self._low_water:
            self._release()
        return chunk

    def _release(self) -> None:
        if self._paused:
            self._paused = False
            self._owner.body_drained(self)

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(self._timeout, self._expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self._error = body_timeout()
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
