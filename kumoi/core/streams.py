"""Request body streams.

A request body reaches the layers above the HTTP edge as a :class:`BodyStream`: an object with
``async read(n)`` that returns at most ``n`` bytes and ``b""`` at the end. Wrappers (SigV4 chunk
verification, content hashing) are body streams too, so they stack. A stream that finds the body
invalid raises a :class:`~kumoi.core.errors.ServiceError` from ``read`` *before* it returns the
final ``b""``, so a consumer that commits only on end-of-stream never commits bad data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

DEFAULT_CHUNK = 1 << 20
#: The largest non-streaming request body any layer reads whole (XML/JSON/form documents).
MAX_DOCUMENT_BODY = 8 * 1024 * 1024


@runtime_checkable
class BodyStream(Protocol):
    """An async byte stream. ``content_length`` is the decoded length when known in advance."""

    @property
    def content_length(self) -> int | None: ...

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        """Return up to ``n`` bytes (``n`` > 0); ``b""`` means the body is complete and valid."""
        ...


async def iter_chunks(stream: BodyStream, size: int = DEFAULT_CHUNK) -> AsyncIterator[bytes]:
    """Yield the stream's chunks until it ends."""
    while True:
        chunk = await stream.read(size)
        if not chunk:
            return
        yield chunk


async def read_limited(stream: BodyStream, limit: int) -> bytes:
    """Read the whole stream, at most ``limit`` bytes; raise :class:`BodyTooLarge` beyond it."""
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = await stream.read(min(DEFAULT_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)


class BodyTooLarge(Exception):
    """The body is larger than the reader allows. Callers turn it into their protocol's error."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


class BytesBody:
    """A body already in memory (tests, small buffered bodies)."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes = b"") -> None:
        self._data = data
        self._pos = 0

    @property
    def content_length(self) -> int | None:
        return len(self._data)

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk
