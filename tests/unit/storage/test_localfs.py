"""LocalBlobStore: layout, digests, ranges, limits, aborts, crash leftovers and injected faults."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import random
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from awscrt import checksums as crt  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.checksums import UnknownChecksum
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BodyTooLarge, BytesBody
from kumoi.storage.blob import crypto
from kumoi.storage.blob.contract import CHECKSUM_ALGORITHMS
from kumoi.storage.blob.localfs import (
    FLUSH_SIZE,
    SMALL_CHUNK,
    InvalidBlobId,
    LocalBlobStore,
    WriterClosed,
    _split,
)
from kumoi.storage.faults import FaultPlan, InjectedFault

SIZES = [0, 1, 1000, FLUSH_SIZE - 1, FLUSH_SIZE, FLUSH_SIZE + 1, 3 * 1024 * 1024 + 17]


class ChunkedBody:
    """A stream that returns fixed-size chunks, then optionally fails instead of ending."""

    def __init__(self, data: bytes, chunk: int = 100_000, fail_at_end: bool = False) -> None:
        self._data, self._chunk, self._pos, self._fail = data, chunk, 0, fail_at_end

    @property
    def content_length(self) -> int | None:
        return None

    async def read(self, n: int = 1 << 20) -> bytes:
        piece = self._data[self._pos : self._pos + min(n, self._chunk)]
        self._pos += len(piece)
        if not piece and self._fail:
            raise ServiceError("XAmzContentSHA256Mismatch", "bad body")
        return piece


def run(
    root: Path,
    body: Callable[[LocalBlobStore], Awaitable[None]],
    faults: FaultPlan | None = None,
    *,
    direct: bool = True,
) -> None:
    """Run ``body`` against a started store; ``direct=False`` keeps it off O_DIRECT even where the
    file system takes it (as where it is refused)."""

    async def main() -> None:
        store = LocalBlobStore(root, faults=faults or FaultPlan())
        await store.start()
        store.direct = store.direct and direct
        try:
            await body(store)
        finally:
            await store.close()

    asyncio.run(main())


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def read_blob_sync(store: LocalBlobStore, blob_id: str) -> bytes:
    return store.path_of(blob_id).read_bytes()


async def read_range(
    store: LocalBlobStore, blob_id: str, offset: int = 0, length: int | None = None
) -> bytes:
    body = await store.open(blob_id, offset, length)
    try:
        return os.pread(body.fd, body.length, body.offset)
    finally:
        body.close()
        body.close()  # closing twice is harmless


def expected_checksums(data: bytes) -> dict[str, bytes]:
    return {
        "crc32": zlib.crc32(data).to_bytes(4, "big"),
        "crc32c": crt.crc32c(data).to_bytes(4, "big"),
        "crc64nvme": crt.crc64nvme(data).to_bytes(8, "big"),
        "sha1": hashlib.sha1(data).digest(),
        "sha256": hashlib.sha256(data).digest(),
    }


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_with_every_checksum(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)

    async def body(store: LocalBlobStore) -> None:
        info = await store.write_stream(ChunkedBody(data, chunk=70_001), CHECKSUM_ALGORITHMS)
        assert info.size == size
        assert info.md5 == hashlib.md5(data).digest()
        assert info.checksums == expected_checksums(data)
        path = store.path_of(info.blob_id)
        assert path.parent.parent.parent == tmp_path / "blobs"
        assert path.parent.name == info.blob_id[2:4] and path.parent.parent.name == info.blob_id[:2]
        assert read_blob_sync(store, info.blob_id) == data
        assert await read_range(store, info.blob_id) == data
        assert list((tmp_path / "tmp").iterdir()) == []

    run(tmp_path, body)


def test_ranges_and_delete(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40

    async def body(store: LocalBlobStore) -> None:
        info = await store.write_stream(BytesBody(data))
        assert info.checksums == {}
        assert await read_range(store, info.blob_id, 10, 20) == data[10:30]
        assert await read_range(store, info.blob_id, 10_000) == data[10_000:]
        assert await read_range(store, info.blob_id, 20_000, 5) == b""
        await store.delete(info.blob_id)
        await store.delete(info.blob_id)
        with pytest.raises(FileNotFoundError):
            await store.open(info.blob_id)
        with pytest.raises(ValueError):
            await store.open(info.blob_id, -1)

    run(tmp_path, body)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 32, "a" * 31, "a" * 33, ""])
def test_hostile_blob_ids_are_refused(tmp_path: Path, bad: str) -> None:
    async def body(store: LocalBlobStore) -> None:
        with pytest.raises(InvalidBlobId):
            await store.open(bad)
        with pytest.raises(InvalidBlobId):
            await store.delete(bad)

    run(tmp_path, body)


def test_unknown_checksum_is_refused(tmp_path: Path) -> None:
    async def body(store: LocalBlobStore) -> None:
        with pytest.raises(UnknownChecksum):
            store.new_writer(["md4"])

    run(tmp_path, body)


@pytest.mark.parametrize("size", [10, FLUSH_SIZE * 3])
def test_limit_aborts(tmp_path: Path, size: int) -> None:
    async def body(store: LocalBlobStore) -> None:
        with pytest.raises(BodyTooLarge):
            await store.write_stream(ChunkedBody(os.urandom(size + 1)), limit=size)
        assert files_under(tmp_path) == []
        info = await store.write_stream(ChunkedBody(os.urandom(size)), limit=size)
        assert info.size == size

    run(tmp_path, body)


@pytest.mark.parametrize("size", [10, FLUSH_SIZE * 3])
def test_stream_error_aborts(tmp_path: Path, size: int) -> None:
    async def body(store: LocalBlobStore) -> None:
        with pytest.raises(ServiceError):
            await store.write_stream(ChunkedBody(os.urandom(size), fail_at_end=True))
        assert files_under(tmp_path) == []

    run(tmp_path, body)


def test_writer_abort_is_idempotent_and_final(tmp_path: Path) -> None:
    async def body(store: LocalBlobStore) -> None:
        writer = store.new_writer()
        await writer.write(os.urandom(FLUSH_SIZE * 2))
        await writer.abort()
        await writer.abort()
        with pytest.raises(WriterClosed):
            await writer.write(b"x")
        with pytest.raises(WriterClosed):
            await writer.commit()
        committed = store.new_writer(["sha256"])
        await committed.write(b"kept")
        info = await committed.commit()
        await committed.abort()  # after commit: a no-op
        assert read_blob_sync(store, info.blob_id) == b"kept"
        assert [p.name for p in files_under(tmp_path)] == [info.blob_id]

    run(tmp_path, body)


def test_cancelled_write_leaves_nothing(tmp_path: Path) -> None:
    class Stalling(ChunkedBody):
        """Hands out three chunks, then waits forever: the write is cancelled mid-stream."""

        def __init__(self, data: bytes, chunk: int) -> None:
            super().__init__(data, chunk=chunk)
            self.handed = 0
            self.stalled = asyncio.Event()

        async def read(self, n: int = 1 << 20) -> bytes:
            if self.handed == 3:
                self.stalled.set()
                await asyncio.Event().wait()
            self.handed += 1
            return await super().read(n)

    async def body(store: LocalBlobStore) -> None:
        stalling = Stalling(os.urandom(8 << 20), chunk=1 << 20)
        task = asyncio.create_task(store.write_stream(stalling))
        await stalling.stalled.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(500):  # the shielded clean-up finishes in the background
            if not files_under(tmp_path):
                break
            await asyncio.sleep(0.01)
        assert files_under(tmp_path) == []

    run(tmp_path, body)


def test_start_removes_crash_leftovers(tmp_path: Path) -> None:
    (tmp_path / "tmp" / "nested").mkdir(parents=True)
    (tmp_path / "tmp" / "deadbeef.1234").write_bytes(b"half a blob")
    (tmp_path / "tmp" / "nested" / "x").write_bytes(b"x")
    kept: list[str] = []

    async def first(store: LocalBlobStore) -> None:
        assert list((tmp_path / "tmp").iterdir()) == []
        kept.append((await store.write_stream(BytesBody(b"keep me"))).blob_id)

    run(tmp_path, first)
    (tmp_path / "tmp" / "leftover").write_bytes(b"y")

    async def second(store: LocalBlobStore) -> None:
        assert list((tmp_path / "tmp").iterdir()) == []
        assert await read_range(store, kept[0]) == b"keep me"

    run(tmp_path, second)


FAULT_POINTS = [
    ("open", 1),
    ("write", 1),
    ("write", 2),
    ("fsync", 1),
    ("fsync", 2),
    ("fsync", 3),
    ("fsync", 4),
    ("mkdir", 1),
    ("rename", 1),
]


@pytest.mark.parametrize(("op", "nth"), FAULT_POINTS)
@pytest.mark.parametrize("size", [1000, FLUSH_SIZE * 2 + 5])
def test_injected_fault_leaves_no_half_visible_blob(tmp_path: Path, op: str, nth: int, size: int) -> None:
    """Every failing step surfaces as the error and leaves neither a staging file nor a blob.

    The first blob goes into a fresh store: its commit syncs the file (fsync 1), creates the
    fan-out directories (mkdir 1, then fsyncs 2-3 of their parents), renames and syncs the
    directory (fsync 4).
    """
    data = os.urandom(size)
    faults = FaultPlan({op: nth})

    async def body(store: LocalBlobStore) -> None:
        try:
            info = await store.write_stream(ChunkedBody(data, chunk=FLUSH_SIZE))
        except InjectedFault:
            assert faults.triggered == [(op, nth)]
            assert list((tmp_path / "tmp").iterdir()) == []
            assert [p for p in files_under(tmp_path / "blobs")] == []
        else:
            assert faults.triggered == []  # this path has fewer calls of ``op``
            assert read_blob_sync(store, info.blob_id) == data
        # The store keeps working after a fault.
        faults.active = False
        again = await store.write_stream(BytesBody(b"after"))
        assert read_blob_sync(store, again.blob_id) == b"after"

    run(tmp_path, body, faults)


def test_injected_faults_hit_every_step(tmp_path: Path) -> None:
    """Sanity check on the test above: each planned step is actually reached by some write."""
    reached: set[tuple[str, int]] = set()
    for op, nth in FAULT_POINTS:
        faults = FaultPlan({op: nth})

        async def body(store: LocalBlobStore, faults: FaultPlan = faults) -> None:
            with pytest.raises(InjectedFault):
                await store.write_stream(ChunkedBody(os.urandom(FLUSH_SIZE * 2 + 5), chunk=FLUSH_SIZE))
            reached.update(faults.triggered)

        run(tmp_path / f"{op}{nth}", body, faults)
    assert reached == set(FAULT_POINTS)


def _sizes(seed: int, total: int) -> list[int]:
    """Chunk sizes like a socket's: mostly tens to hundreds of KiB, some tiny, summing to ``total``."""
    rng = random.Random(seed)
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(
            rng.choice([1, 7, 100, 4000, SMALL_CHUNK - 1, SMALL_CHUNK, 65_536, 200_003, FLUSH_SIZE + 3])
        )
    sizes[-1] -= sum(sizes) - total
    return [size for size in sizes if size]


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("sealed", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_any_mix_of_chunk_sizes_round_trips(tmp_path: Path, sealed: bool, seed: int, direct: bool) -> None:
    data = os.urandom(3 * FLUSH_SIZE + 12_345)
    ring = crypto.Keyring(crypto.MasterKey.generate())

    async def body(store: LocalBlobStore) -> None:
        writer = store.new_writer(["crc64nvme"], crypto.sealer_for_master(ring) if sealed else None)
        at = 0
        for size in _sizes(seed, len(data)):
            # Some callers hand over buffers they reuse afterwards: what was written must not change.
            piece = bytearray(data[at : at + size]) if size % 2 else data[at : at + size]
            await writer.write(piece)  # type: ignore[arg-type]
            if isinstance(piece, bytearray):
                piece[:] = bytes(len(piece))
            at += size
        info = await writer.commit()
        assert info.size == len(data)
        assert info.md5 == hashlib.md5(data).digest()
        assert info.checksums == {"crc64nvme": expected_checksums(data)["crc64nvme"]}
        stored = read_blob_sync(store, info.blob_id)
        assert (crypto.open_all(stored, ring) if sealed else stored) == data

    run(tmp_path, body, direct=direct)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=50), max_size=12), st.data())
def test_split_cuts_pieces_at_any_byte(pieces: list[bytes], draw: st.DataObject) -> None:
    whole = b"".join(pieces)
    at = draw.draw(st.integers(0, len(whole)))
    head, tail = _split(list(pieces), at)
    assert b"".join(head) == whole[:at]
    assert b"".join(tail) == whole[at:]
    assert all(memoryview(piece).nbytes for piece in head + tail)


@pytest.mark.parametrize("span", [65_536, FLUSH_SIZE, FLUSH_SIZE + 1, 3 * FLUSH_SIZE])
def test_only_large_reads_skip_the_page_cache(tmp_path: Path, span: int) -> None:
    """Reads of over FLUSH_SIZE bytes of a blob written with O_DIRECT use it too; smaller ones
    (ranges asked for again and again) go through the page cache. Both read the same bytes."""
    data = os.urandom(3 * FLUSH_SIZE + 5)

    async def body(store: LocalBlobStore) -> None:
        info = await store.write_stream(BytesBody(data))
        reader = store.open_blocking(info.blob_id, span)
        try:
            direct = bool(fcntl.fcntl(reader.fd, fcntl.F_GETFL) & os.O_DIRECT)
            assert direct == (store.direct and span > FLUSH_SIZE)
            assert bytes(reader.read(1000, span)) == data[1000 : 1000 + span]
        finally:
            reader.close()

    run(tmp_path, body)
