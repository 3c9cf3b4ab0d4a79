"""Reading an object's bytes: inline, one blob, or the blobs of a multipart manifest.

A range of a single-blob object, or a range inside one part of a multipart object, is a
:class:`~kumoi.core.http.FileBody` (the HTTP edge streams it with positioned reads). A range of a
multipart object that spans parts walks the manifest: it skips whole parts
before the range and streams the parts it overlaps, one open file at a time, with one read ahead
so disk and socket overlap. Nothing is ever read whole into memory.

Sealed objects (encrypted at rest, see :mod:`kumoi.storage.blob.crypto`) are read by a
:class:`SealedReader`, a :class:`~kumoi.core.streams.ReaderBody`: each blob's header gives the
data key, then only the chunks the range overlaps are read (into the blob reader's reused buffer,
past the page cache for large blobs: see :mod:`kumoi.storage.blob.staging`) and opened
straight into the buffer the reader is given, on a worker thread. On a plain TCP connection the
HTTP edge gives it the buffer it then writes to the socket from the same thread; ten parallel
ranged GETs of a sealed object so cost no per-chunk allocation (fresh buffers cost more in page
faults and zeroing than the decryption itself) and no event-loop work per chunk.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from kumoi.core.http import FileBody, ResponseBody
from kumoi.core.streams import ReaderBody
from kumoi.storage.blob import crypto
from kumoi.storage.blob.contract import BlobReader, BlobStore
from kumoi.storage.meta.contract import BlobPart, ObjectRecord

#: Bytes per positioned read when streaming across parts.
STREAM_CHUNK = 4 * 1024 * 1024
#: Most sealed chunks one positioned read fetches (the reader's reused raw buffer holds them).
SEALED_BATCH = (2 * 1024 * 1024) // crypto.CHUNK_SIZE


@dataclass(frozen=True, slots=True)
class Unseal:
    """What opening a sealed object needs: the master keys and, for SSE-C, the customer's key."""

    keyring: crypto.Keyring | None
    customer_key: bytes | None = None


def is_sealed(record: ObjectRecord) -> bool:
    encryption: dict[str, Any] = record.attrs.get("Encryption") or {}
    return bool(encryption.get("Sealed"))


@dataclass(frozen=True, slots=True)
class PartSpan:
    """Where part ``number`` (1-based) of a multipart object lies."""

    number: int
    start: int
    size: int


def part_span(record: ObjectRecord, number: int) -> PartSpan | None:
    """The byte span of part ``number`` of ``record``; a plain object is its own part 1."""
    if record.manifest is None:
        return PartSpan(1, 0, record.size) if number == 1 else None
    if not 1 <= number <= len(record.manifest):
        return None
    start = sum(part.size for part in record.manifest[: number - 1])
    return PartSpan(number, start, record.manifest[number - 1].size)


async def open_range(
    blobs: BlobStore, record: ObjectRecord, offset: int, length: int, unseal: Unseal | None = None
) -> ResponseBody:
    """A response body for ``length`` bytes of the object from ``offset``."""
    if length <= 0:
        return b""
    if record.inline is not None:
        # At most INLINE_MAX bytes: opening them here costs microseconds, and a bytes body goes
        # out with its head in one write.
        inline = record.inline
        if is_sealed(record):
            if unseal is None:
                raise crypto.DecryptionError("a sealed object needs its keys")
            inline = crypto.open_all(inline, _keyring(unseal), unseal.customer_key)
        return inline if offset == 0 and length == len(inline) else inline[offset : offset + length]
    if is_sealed(record):
        if unseal is None:
            raise crypto.DecryptionError("a sealed object needs its keys")
        return SealedReader(blobs, _segments(record, offset, length), length, unseal)
    if record.manifest is None and record.blob_id is not None:
        return await blobs.open(record.blob_id, offset, length)
    if record.manifest is not None:
        # A range inside one part (parallel downloaders ask for whole parts) is one file.
        start = 0
        for part in record.manifest:
            if start <= offset and offset + length <= start + part.size:
                return await blobs.open(part.blob_id, offset - start, length)
            if offset < start + part.size:
                break
            start += part.size
    return iter_range(blobs, record, offset, length)


async def iter_range(
    blobs: BlobStore, record: ObjectRecord, offset: int, length: int, unseal: Unseal | None = None
) -> AsyncIterator[bytes]:
    """The bytes of a range, as chunks of at most :data:`STREAM_CHUNK`."""
    sealed = is_sealed(record)
    if sealed and unseal is None:
        raise crypto.DecryptionError("a sealed object needs its keys")
    if record.inline is not None:
        if length > 0:
            inline = record.inline
            if sealed:
                assert unseal is not None
                inline = crypto.open_all(inline, _keyring(unseal), unseal.customer_key)
            yield inline[offset : offset + length]
        return
    for part, start, take in _segments(record, offset, length):
        if sealed:
            assert unseal is not None
            reader = SealedReader(blobs, [(part, start, take)], take, unseal)
            try:
                async for chunk in reader:
                    yield chunk
            finally:
                await reader.aclose()
        else:
            body = await blobs.open(part.blob_id, start, take)
            try:
                async for chunk in _read_file(body):
                    yield chunk
            finally:
                body.close()


async def _read_file(body: FileBody) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    position, end = body.offset, body.offset + body.length
    ahead: asyncio.Future[bytes] | None = None
    if position < end:
        ahead = loop.run_in_executor(None, os.pread, body.fd, min(STREAM_CHUNK, end - position), position)
    try:
        while ahead is not None:
            data = await ahead
            ahead = None
            if not data:
                raise EOFError("blob shorter than its record says")
            position += len(data)
            if position < end:
                ahead = loop.run_in_executor(
                    None, os.pread, body.fd, min(STREAM_CHUNK, end - position), position
                )
            yield data
    finally:
        if ahead is not None:
            # The descriptor must outlive every read still running on it.
            await asyncio.wait([ahead])


def _keyring(unseal: Unseal) -> crypto.Keyring:
    if unseal.keyring is not None:
        return unseal.keyring
    # Only SSE-C data opens without master keys; this keyring holds none that could match.
    return crypto.Keyring(crypto.MasterKey(bytes(crypto.KEY_ID_SIZE), bytes(crypto.KEY_SIZE)))


def _segments(record: ObjectRecord, offset: int, length: int) -> list[tuple[BlobPart, int, int]]:
    """The (part, offset in it, length) pieces of ``length`` bytes of a blob object from ``offset``."""
    manifest = record.manifest
    if manifest is None:
        manifest = [] if record.blob_id is None else [BlobPart(record.blob_id, record.size)]
    pieces: list[tuple[BlobPart, int, int]] = []
    for part in manifest:
        if length <= 0:
            break
        if offset >= part.size:
            offset -= part.size
            continue
        take = min(part.size - offset, length)
        pieces.append((part, offset, take))
        length -= take
        offset = 0
    return pieces


class SealedReader(ReaderBody):
    """The plaintext of byte ranges of sealed blobs, read and opened on worker threads.

    Whole chunks are opened straight into the caller's buffer; a chunk the range or the buffer
    cuts is opened into a scratch chunk and the wanted bytes copied. Blobs are opened one at a
    time, when the reads reach them.
    """

    __slots__ = (
        "_blobs",
        "_cipher",
        "_customer",
        "_end",
        "_file",
        "_final",
        "_keyring",
        "_position",
        "_scratch",
        "_segments",
        "_size",
    )

    def __init__(
        self, blobs: BlobStore, segments: list[tuple[BlobPart, int, int]], length: int, unseal: Unseal
    ) -> None:
        super().__init__(length)
        self._blobs = blobs
        self._segments = deque(segments)
        self._keyring = _keyring(unseal)
        self._customer = unseal.customer_key
        self._file: BlobReader | None = None
        self._cipher: crypto.ChunkCipher | None = None
        self._size = 0
        self._final = 0
        self._position = 0
        self._end = 0
        self._scratch = bytearray()

    def readinto(self, buffer: memoryview) -> int:
        written = 0
        while written < len(buffer):
            if self._position >= self._end and not self._next_segment():
                break
            written += self._fill(buffer[written:])
        return written

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._segments.clear()

    def _next_segment(self) -> bool:
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self._segments:
            return False
        part, offset, length = self._segments.popleft()
        self._file = self._blobs.open_blocking(part.blob_id, length)
        header = bytes(self._file.read(0, crypto.HEADER_SIZE))
        self._cipher = crypto.opener(header, self._keyring, self._customer)
        self._size = part.size
        self._final = crypto.chunk_count(part.size) - 1
        self._position, self._end = offset, offset + length
        return True

    def _fill(self, view: memoryview) -> int:
        """Open the next plaintext bytes of the current blob into ``view``; return how many."""
        size = crypto.CHUNK_SIZE
        position = self._position
        stop = min(self._end, position + len(view))
        first = position // size
        whole = 0
        if position % size == 0:
            whole = (stop - position) // size
            if stop == self._size and stop % size:
                whole += 1  # the blob's short last chunk
            whole = min(whole, SEALED_BATCH)
        if whole:
            count = min((first + whole) * size, self._size) - position
            self._open_chunks(first, whole, view[:count])
        else:
            if not self._scratch:
                self._scratch = bytearray(size)
            scratch = memoryview(self._scratch)
            opened = self._open_chunks(first, 1, scratch)
            low = position - first * size
            count = min(opened, stop - first * size) - low
            view[:count] = scratch[low : low + count]
        self._position += count
        return count

    def _open_chunks(self, first: int, count: int, out: memoryview) -> int:
        """Read sealed chunks ``first`` .. ``first + count - 1`` and open them into ``out``; return
        the plaintext bytes (all of them: a blob cut short fails)."""
        assert self._file is not None and self._cipher is not None
        plain = min((first + count) * crypto.CHUNK_SIZE, self._size) - first * crypto.CHUNK_SIZE
        wanted = plain + count * crypto.TAG_SIZE
        raw = self._file.read(crypto.chunk_offset(first), wanted)
        if raw.nbytes != wanted:
            raise crypto.DecryptionError("sealed blob shorter than its record says")
        return self._cipher.open_into(first, raw, out, self._final)
