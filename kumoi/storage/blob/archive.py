"""The archive tier's data: an object's stored bytes as one zstd-compressed blob.

Archiving takes the bytes exactly as they are stored (an inline value, one blob, or each blob of
a multipart manifest, one after the other), so sealed (encrypted) objects stay sealed: their
archive is compressed ciphertext and never holds plaintext, and SSE-C objects need no key to be
archived or restored. Unsealed data compresses. :func:`unpack` streams the bytes back, split at
the original blob boundaries (``raw_sizes``), so a restored copy is byte-for-byte the stored data.

The archive is written through the blob store like any other blob (write intent, staging file,
fsync, rename; garbage collection and snapshots know it through the object that references it).
Compression and decompression run on worker threads, one chunk at a time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence

import zstandard

from kumoi.storage.blob.contract import BlobInfo, BlobStore, BlobWriter

#: zstd level: fast, still a good ratio for text-like data.
LEVEL = 3
#: Raw bytes read per step.
READ_CHUNK = 1024 * 1024


class ArchiveWriter:
    """Compresses what it is given into a new blob of ``blobs``."""

    def __init__(self, writer: BlobWriter) -> None:
        self.writer = writer
        self._compressor = zstandard.ZstdCompressor(level=LEVEL).compressobj()

    async def add(self, data: bytes) -> None:
        packed = await asyncio.to_thread(self._compressor.compress, data)
        if packed:
            await self.writer.write(packed)

    async def commit(self) -> BlobInfo:
        tail = self._compressor.flush()
        if tail:
            await self.writer.write(tail)
        return await self.writer.commit()


async def read_raw(blobs: BlobStore, blob_id: str) -> AsyncIterator[bytes]:
    """A blob's file bytes as stored (sealed blobs stay sealed), in chunks."""
    body = await blobs.open(blob_id)
    try:
        position, end = body.offset, body.offset + body.length
        while position < end:
            data = await asyncio.to_thread(os.pread, body.fd, min(READ_CHUNK, end - position), position)
            if not data:
                raise EOFError(f"blob {blob_id} is shorter than it was")
            position += len(data)
            yield data
    finally:
        body.close()


async def unpack(
    blobs: BlobStore, archive_id: str, raw_sizes: Sequence[int]
) -> AsyncIterator[tuple[int, bytes]]:
    """The archived bytes as ``(index of the original blob, chunk)``, in order."""
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    index, left = 0, raw_sizes[0] if raw_sizes else 0
    async for packed in read_raw(blobs, archive_id):
        data = memoryview(await asyncio.to_thread(decompressor.decompress, packed))
        while data:
            while left == 0:
                index += 1
                if index >= len(raw_sizes):
                    raise ValueError("archive holds more bytes than its object")
                left = raw_sizes[index]
            take = min(left, len(data))
            yield index, bytes(data[:take])
            data, left = data[take:], left - take
    if left or any(raw_sizes[index + 1 :]):
        raise ValueError("archive holds fewer bytes than its object")
