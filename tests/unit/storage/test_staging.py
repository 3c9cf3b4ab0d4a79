"""StagedFile: appends through an aligned buffer, with and without O_DIRECT, come out byte-exact."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.storage.blob import staging
from kumoi.storage.blob.staging import (
    DIRECT_FLAG,
    DirectReader,
    StagedFile,
    StagingPool,
    set_direct,
    supports_direct,
)
from kumoi.storage.faults import NO_FAULTS, FaultPlan, InjectedFault

#: A small pool buffer, so appends cross its end often.
POOL_BYTES = 3 * staging.BLOCK


def open_staged(path: Path, direct: bool, pool: StagingPool | None = None) -> StagedFile:
    """A staged file; ``direct`` opens it with O_DIRECT where the directory allows it (the staging
    logic is the same either way: whole blocks, then the tail)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    if direct and supports_direct(path.parent):
        flags |= DIRECT_FLAG
    fd = os.open(path, flags, 0o600)
    return StagedFile(fd, pool or StagingPool(POOL_BYTES), direct, NO_FAULTS)


@pytest.fixture
def direct_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a file system that takes O_DIRECT: the test's own, or one in the checkout
    when the temporary directories are on a file system that refuses it."""
    if supports_direct(tmp_path):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as name:
        if not supports_direct(Path(name)):
            pytest.fail("neither the temporary directory nor the checkout takes O_DIRECT")
        yield Path(name)


def is_direct(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & DIRECT_FLAG)


steps = st.lists(
    st.tuples(st.sampled_from(["append", "reserve"]), st.lists(st.integers(0, 3 * POOL_BYTES), max_size=4)),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps, direct=st.booleans())
def test_any_appends_write_exactly_their_bytes(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, list[int]]], direct: bool
) -> None:
    path = tmp_path_factory.mktemp("staged") / "file"
    staged = open_staged(path, direct)
    expected = bytearray()
    counter = 0
    for kind, sizes in steps:
        pieces = []
        for size in sizes:
            pieces.append(bytes((counter + i) % 251 for i in range(size)))
            counter += 1
        if kind == "append":
            staged.append(pieces)
        else:
            data = b"".join(pieces)
            view = staged.reserve(len(data))
            view[:] = data
            staged.advance(len(data))
        expected += b"".join(pieces)
        assert staged.size == len(expected)
    staged.finish()
    staged.close()
    assert path.read_bytes() == expected


def test_whole_blocks_go_out_with_o_direct_and_the_tail_at_finish(direct_dir: Path) -> None:
    staged = open_staged(direct_dir / "file", direct=True)
    data = os.urandom(2 * staging.BLOCK + 100)
    staged.append([data])
    assert os.fstat(staged.fd).st_size == 2 * staging.BLOCK
    assert is_direct(staged.fd)
    staged.finish()
    assert os.fstat(staged.fd).st_size == len(data)
    staged.close()
    assert (direct_dir / "file").read_bytes() == data


def test_a_refused_direct_write_goes_on_through_the_page_cache(
    direct_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system may take O_DIRECT at open and refuse the writes (EINVAL): here the kernel
    refuses them for real, as the blocks are misaligned on purpose."""
    monkeypatch.setattr(staging, "BLOCK", 64)
    staged = open_staged(direct_dir / "file", direct=True)
    data = os.urandom(10_000)
    staged.append([data[:4000], data[4000:]])
    assert not is_direct(staged.fd)
    staged.finish()
    staged.close()
    assert (direct_dir / "file").read_bytes() == data


def test_short_vectored_writes_are_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwritev

    def short(fd: int, buffers: list[memoryview], offset: int) -> int:
        return real(fd, [memoryview(buffers[0])[:1000]], offset)

    monkeypatch.setattr(os, "pwritev", short)
    staged = open_staged(tmp_path / "file", direct=False)
    pieces = [os.urandom(3000), os.urandom(2500), os.urandom(10)]
    staged.append(pieces)
    staged.close()
    assert (tmp_path / "file").read_bytes() == b"".join(pieces)


def test_buffers_go_back_to_the_pool_and_big_ones_do_not(tmp_path: Path) -> None:
    pool = StagingPool(POOL_BYTES, keep=1)
    staged = open_staged(tmp_path / "a", direct=True, pool=pool)
    staged.append([b"x" * 10])
    staged.close()
    reused = pool.take()
    pool.give(reused)
    staged = open_staged(tmp_path / "b", direct=True, pool=pool)
    staged.reserve(POOL_BYTES + 1)[:] = b"y" * (POOL_BYTES + 1)
    staged.advance(POOL_BYTES + 1)
    staged.finish()
    staged.close()
    assert pool.take() is reused
    assert (tmp_path / "b").read_bytes() == b"y" * (POOL_BYTES + 1)


def test_injected_write_faults_are_raised(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "file", os.O_WRONLY | os.O_CREAT, 0o600)
    staged = StagedFile(fd, StagingPool(POOL_BYTES), False, FaultPlan({"write": 1}))
    with pytest.raises(InjectedFault):
        staged.append([b"data"])
    staged.close()


def test_the_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    supports_direct(tmp_path)
    assert list(tmp_path.iterdir()) == []


def open_reader(path: Path, direct: bool) -> DirectReader:
    fd = os.open(path, os.O_RDONLY)
    return DirectReader(fd, StagingPool(POOL_BYTES), set_direct(fd, True) if direct else False)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(0, 4 * POOL_BYTES),
    reads=st.lists(st.tuples(st.integers(0, 5 * POOL_BYTES), st.integers(0, 2 * POOL_BYTES)), max_size=6),
    direct=st.booleans(),
)
def test_reads_at_any_offset_give_the_file_bytes(
    tmp_path_factory: pytest.TempPathFactory, size: int, reads: list[tuple[int, int]], direct: bool
) -> None:
    path = tmp_path_factory.mktemp("read") / "file"
    data = bytes(i % 253 for i in range(size))
    path.write_bytes(data)
    reader = open_reader(path, direct)
    for offset, length in reads:
        assert bytes(reader.read(offset, length)) == data[offset : offset + length]
    reader.close()


def test_large_reads_go_past_the_page_cache_where_the_file_system_allows(direct_dir: Path) -> None:
    data = os.urandom(3 * staging.BLOCK + 5)
    (direct_dir / "file").write_bytes(data)
    reader = open_reader(direct_dir / "file", direct=True)
    assert is_direct(reader.fd)
    assert bytes(reader.read(100, 3 * staging.BLOCK)) == data[100 : 100 + 3 * staging.BLOCK]
    assert is_direct(reader.fd)
    reader.close()


def test_a_refused_direct_read_goes_on_through_the_page_cache(
    direct_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "BLOCK", 64)
    data = os.urandom(5000)
    (direct_dir / "file").write_bytes(data)
    reader = open_reader(direct_dir / "file", direct=True)
    assert bytes(reader.read(70, 1000)) == data[70:1070]
    assert not is_direct(reader.fd)
    reader.close()
