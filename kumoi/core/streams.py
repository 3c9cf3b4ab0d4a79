"""Request body streams, and response bodies produced by blocking reads.

A request body reaches the layers above the HTTP edge as a :class:`BodyStream`: an object with
``async read(n)`` that returns at most ``n`` bytes and ``b""`` at the end. Wrappers (SigV4 chunk
verification, content hashing) are body streams too, so they stack. A stream that finds the body
invalid raises a :class:`~kumoi.core.errors.ServiceError` from ``read`` *before* it returns the
final ``b""``, so a consumer that commits only on end-of-stream never commits bad data.

A response body whose bytes come from blocking work (reading and decrypting a sealed blob) is a
:class:`ReaderBody`: the HTTP edge hands it a buffer of its own on a worker thread and, on a plain
TCP socket, writes that buffer to the socket from the same thread, so the bytes never pass the
event loop and no buffer is allocated per chunk. Anywhere else it is an ordinary async iterable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from kumoi.core.checksums import Checksum

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


class PayloadCheck(Protocol):
    """A verification of a body's bytes that the body's consumer runs, see :func:`defer_check`."""

    def update(self, data: bytes) -> None:
        """Take the next bytes; called in order, from one thread at a time (any thread)."""
        ...

    def verify(self) -> None:
        """Raise the stream's :class:`~kumoi.core.errors.ServiceError` if the bytes fail the check."""
        ...

    def running(self) -> Mapping[str, Checksum]:
        """The checksums (by algorithm) that :meth:`update` keeps anyway: a consumer that needs
        the same ones reads these instead of computing them a second time."""
        ...


def defer_check(stream: BodyStream) -> PayloadCheck | None:
    """Take over the check ``stream`` runs on its bytes as they are read, if it has one and
    nothing has been read yet; otherwise ``None`` (the stream keeps checking itself).

    The caller must pass every byte it reads to the check's ``update``, in order, and call its
    ``verify`` before using the body. A consumer that hashes the body on a worker thread anyway
    (the blob store) folds the check into the same pass over the bytes: one thread job and one
    trip through the CPU caches instead of two.
    """
    hand_over = getattr(stream, "hand_over_check", None)
    return cast("PayloadCheck | None", hand_over()) if hand_over is not None else None


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


#: Bytes per chunk when a :class:`ReaderBody` is iterated (its buffers then go to other owners).
READER_CHUNK = 2 * 1024 * 1024


class ReaderBody:
    """A response body of exactly :attr:`length` bytes produced by :meth:`readinto`, blocking
    calls on worker threads, one at a time, each continuing where the last one stopped.

    Subclasses implement :meth:`readinto` and :meth:`release`. Iterating the body runs the reads
    on the default executor, one read ahead, each into a fresh buffer (the consumer keeps it).
    :meth:`aclose` waits for a read still running before it releases the resources, so it is
    safe whenever the consumer stops.
    """

    __slots__ = ("_ahead", "_done", "_released", "length")

    def __init__(self, length: int) -> None:
        self.length = length
        self._ahead: asyncio.Future[bytearray] | None = None
        self._done = False
        self._released = False

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next bytes; return how many (fewer only at the end, 0 after
        it). Runs on a worker thread."""
        raise NotImplementedError

    def release(self) -> None:
        """Give back what the reads hold (files); no read runs any more."""

    def _read_chunk(self) -> bytearray:
        buffer = bytearray(READER_CHUNK)
        del buffer[self.readinto(memoryview(buffer)) :]
        return buffer

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        ahead = self._ahead
        if ahead is None:
            ahead = self._ahead = loop.run_in_executor(None, self._read_chunk)
        # Shielded: a cancelled consumer leaves the read running, and aclose() waits for it.
        chunk = await asyncio.shield(ahead)
        self._ahead = None
        if not chunk:
            self._done = True
            raise StopAsyncIteration
        self._ahead = loop.run_in_executor(None, self._read_chunk)
        # Every consumer takes any buffer; bytes(chunk) would copy it again.
        return cast(bytes, chunk)

    async def aclose(self) -> None:
        """Wait for a read still running, then :meth:`release` (once)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # retrieved: the consumer has stopped
        self._done = True
        if not self._released:
            self._released = True
            self.release()
