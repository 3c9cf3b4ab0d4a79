"""Reading ranges of sealed objects (``SealedReader``): any range of any manifest, read into
buffers of any size, equals the plaintext; damaged or cut blobs fail instead of returning data."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.services.s3.content import SealedReader, Unseal, iter_range, open_range
from kumoi.storage.blob import crypto
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.contract import BlobPart, ObjectRecord

CHUNK = crypto.CHUNK_SIZE
#: Part sizes around chunk and read-batch boundaries, ending in a short part.
PART_SIZES = (3 * CHUNK + 5, CHUNK, 40 * CHUNK - 1, 1)
KEYRING = crypto.Keyring(crypto.MasterKey.generate())
UNSEAL = Unseal(KEYRING)


class Stored:
    """A sealed multipart object in a blob store on its own event loop."""

    def __init__(self, root: Path) -> None:
        self.loop = uvloop.new_event_loop()
        self.store = LocalBlobStore(root)
        self.data = os.urandom(sum(PART_SIZES))
        self.manifest: list[BlobPart] = []
        self.loop.run_until_complete(self._write())

    async def _write(self) -> None:
        await self.store.start()
        at = 0
        for size in PART_SIZES:
            writer = self.store.new_writer((), crypto.sealer_for_master(KEYRING))
            await writer.write(self.data[at : at + size])
            info = await writer.commit()
            self.manifest.append(BlobPart(info.blob_id, size))
            at += size

    def record(self) -> ObjectRecord:
        attrs = {"Encryption": {"SSE": "AES256", "Sealed": True}}
        return ObjectRecord("b", "k", len(self.data), '"x"', 0.0, attrs=attrs, manifest=list(self.manifest))

    def reader(self, offset: int, length: int) -> SealedReader:
        body = self.loop.run_until_complete(open_range(self.store, self.record(), offset, length, UNSEAL))
        assert isinstance(body, SealedReader)
        return body

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture(scope="module")
def stored() -> Iterator[Stored]:
    with tempfile.TemporaryDirectory() as tmp:
        stored = Stored(Path(tmp))
        yield stored
        stored.close()


def read_all(reader: SealedReader, buffer_size: int) -> bytes:
    out = bytearray()
    buffer = memoryview(bytearray(buffer_size))
    while True:
        got = reader.readinto(buffer)
        if not got:
            break
        out += buffer[:got]
    reader.release()
    return bytes(out)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), buffer_size=st.sampled_from([1, 1000, CHUNK - 1, CHUNK, CHUNK + 17, 1 << 20]))
def test_any_range_into_any_buffer_is_the_plaintext(
    stored: Stored, data: st.DataObject, buffer_size: int
) -> None:
    offset = data.draw(st.integers(0, len(stored.data) - 1))
    length = data.draw(st.integers(1, min(len(stored.data) - offset, 3 << 20)))
    if buffer_size == 1:
        length = min(length, 3000)  # byte by byte: keep it quick
    reader = stored.reader(offset, length)
    assert reader.length == length
    assert read_all(reader, buffer_size) == stored.data[offset : offset + length]


def test_whole_object_and_iteration(stored: Stored) -> None:
    assert read_all(stored.reader(0, len(stored.data)), 1 << 20) == stored.data

    async def iterate() -> bytes:
        body = await open_range(stored.store, stored.record(), 5, len(stored.data) - 5, UNSEAL)
        assert isinstance(body, SealedReader)
        try:
            return b"".join([bytes(chunk) async for chunk in body])
        finally:
            await body.aclose()

    assert stored.loop.run_until_complete(iterate()) == stored.data[5:]

    async def copy_source() -> bytes:
        return b"".join(
            [bytes(c) async for c in iter_range(stored.store, stored.record(), 7, 3 * CHUNK, UNSEAL)]
        )

    assert stored.loop.run_until_complete(copy_source()) == stored.data[7 : 7 + 3 * CHUNK]


def test_a_cut_blob_fails(tmp_path: Path) -> None:
    stored = Stored(tmp_path)
    try:
        path = stored.store.path_of(stored.manifest[2].blob_id)
        os.truncate(path, os.path.getsize(path) - 100)
        start = PART_SIZES[0] + PART_SIZES[1]
        with pytest.raises(crypto.DecryptionError):
            read_all(stored.reader(start, PART_SIZES[2]), 1 << 20)
    finally:
        stored.close()


def test_a_flipped_byte_fails(tmp_path: Path) -> None:
    stored = Stored(tmp_path)
    try:
        path = stored.store.path_of(stored.manifest[0].blob_id)
        with open(path, "r+b") as handle:
            handle.seek(crypto.HEADER_SIZE + 10)
            byte = handle.read(1)
            handle.seek(crypto.HEADER_SIZE + 10)
            handle.write(bytes([byte[0] ^ 1]))
        with pytest.raises(crypto.DecryptionError):
            read_all(stored.reader(0, 100), 1 << 20)
    finally:
        stored.close()


def test_an_abandoned_iteration_waits_for_its_read(stored: Stored) -> None:
    async def abandon() -> None:
        body = await open_range(stored.store, stored.record(), 0, len(stored.data), UNSEAL)
        assert isinstance(body, SealedReader)
        await anext(aiter(body))
        await body.aclose()  # a read ahead is running: closed only after it ends
        await body.aclose()

    stored.loop.run_until_complete(asyncio.wait_for(abandon(), 10))
