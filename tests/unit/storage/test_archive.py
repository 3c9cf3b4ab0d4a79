"""The archive codec: compressed blobs that unpack to the stored bytes, split as they were."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.storage.blob.archive import ArchiveWriter, read_raw, unpack
from kumoi.storage.blob.localfs import LocalBlobStore


async def _round_trip(root: Path, pieces: list[bytes]) -> tuple[list[bytes], int]:
    store = LocalBlobStore(root)
    await store.start()
    try:
        packer = ArchiveWriter(store.new_writer())
        for piece in pieces:
            await packer.add(piece)
        info = await packer.commit()
        out = [bytearray() for _ in pieces]
        async for index, chunk in unpack(store, info.blob_id, [len(piece) for piece in pieces]):
            out[index] += chunk
        stored = b"".join([chunk async for chunk in read_raw(store, info.blob_id)])
        return [bytes(part) for part in out], len(stored)
    finally:
        await store.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=5000), min_size=1, max_size=5))
def test_round_trip_keeps_bytes_and_boundaries(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes]
) -> None:
    root = tmp_path_factory.mktemp("archive")
    assert asyncio.run(_round_trip(root, pieces))[0] == pieces


def test_large_random_and_compressible(tmp_path: Path) -> None:
    random_parts = [os.urandom(3 * 1024 * 1024 + 5), b"", os.urandom(100)]
    assert asyncio.run(_round_trip(tmp_path / "a", random_parts))[0] == random_parts
    text = [b"the same line again\n" * 100_000]
    restored, stored = asyncio.run(_round_trip(tmp_path / "b", text))
    assert restored == text and stored < len(text[0]) // 50


def test_size_mismatch_is_detected(tmp_path: Path) -> None:
    async def run() -> None:
        store = LocalBlobStore(tmp_path)
        await store.start()
        try:
            packer = ArchiveWriter(store.new_writer())
            await packer.add(b"0123456789")
            info = await packer.commit()
            with pytest.raises(ValueError, match="more bytes"):
                async for _ in unpack(store, info.blob_id, [4, 4]):
                    pass
            with pytest.raises(ValueError, match="fewer bytes"):
                async for _ in unpack(store, info.blob_id, [10, 1]):
                    pass
        finally:
            await store.close()

    asyncio.run(run())
