"""Reading an object's bytes: inline, one blob, or the blobs of a multipart manifest.

A range of a single-blob object, or a range inside one part of a multipart object, is a
:class:`~kumoi.core.http.FileBody` (the HTTP edge streams it with positioned reads). A range of a
multipart object that spans parts walks the manifest: it skips whole parts
before the range and streams the parts it overlaps, one open file at a time, with one read ahead
so disk and socket overlap. Nothing is ever read whole into memory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from kumoi.core.http import FileBody, ResponseBody
from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import BlobPart, ObjectRecord

#: Bytes per positioned read when streaming across parts.
STREAM_CHUNK = 4 * 1024 * 1024


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


async def open_range(blobs: BlobStore, record: ObjectRecord, offset: int, length: int) -> ResponseBody:
    """A response body for ``length`` bytes of the object from ``offset``."""
    if length <= 0:
        return b""
    if record.inline is not None:
        return record.inline[offset : offset + length]
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
    blobs: BlobStore, record: ObjectRecord, offset: int, length: int
) -> AsyncIterator[bytes]:
    """The bytes of a range, as chunks of at most :data:`STREAM_CHUNK`."""
    if record.inline is not None:
        if length > 0:
            yield record.inline[offset : offset + length]
        return
    manifest = record.manifest
    if manifest is None:
        manifest = [] if record.blob_id is None else [BlobPart(record.blob_id, record.size)]
    remaining = length
    for part in manifest:
        if remaining <= 0:
            return
        if offset >= part.size:
            offset -= part.size
            continue
        take = min(part.size - offset, remaining)
        body = await blobs.open(part.blob_id, offset, take)
        try:
            async for chunk in _read_file(body):
                yield chunk
        finally:
            body.close()
        remaining -= take
        offset = 0


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
