"""Blobs as files on a local disk, written crash-safely.

Layout: ``root/blobs/ab/cd/<blob_id>`` (two fan-out levels from the random id, so no directory
grows past a few thousand entries at a billion blobs) and staging files in ``root/tmp/``. Ids are
``secrets.token_hex(16)``, never derived from object keys.

Writing: a writer buffers small chunks up to :data:`FLUSH_SIZE`. A blob that ends before its first
flush is written by **one** thread job (hash, create, write, fsync, rename, fsync directory), so a
small PUT costs one thread hop. A larger blob is pipelined over the store's thread pool: each
chunk is hashed by one job (chained, since digests are sequential) and written with ``pwrite`` at
its offset by another, so hashing and disk writes overlap on two cores, with at most
:data:`WRITE_WINDOW` bytes in flight. Every :data:`SYNC_EVERY` bytes an ``fdatasync`` is queued so
the disk writes back while data still streams in and the final fsync at commit is short. A
flushed buffer is handed to its jobs as it is (the writer starts a new one), never copied, and the
first job also makes sure the blob's fan-out directory exists, so commit does not wait for that.

Commit: fsync the file, make sure its fan-out directory exists (see ``_ensure_dir``), rename
into place, fsync the directory. Any failure aborts: the staging file (or the renamed file, if
the failure came after the rename) is removed, and the error propagates.
``start`` empties ``tmp/``, removing what a crash left there.

Sealing: a writer given a :class:`~kumoi.storage.blob.contract.Sealer` hashes the plaintext as
usual, but the write job seals the whole chunks into one buffer (on the I/O thread, so encryption
overlaps hashing) and writes it at its sealed offset after the header. The writer always keeps
the last 1..``chunk_size`` bytes back, so the final chunk is sealed as final at commit.

Fault injection: a :class:`~kumoi.storage.faults.FaultPlan` is checked before every ``open``,
``write``, ``fsync``, ``mkdir`` and ``rename``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

from kumoi.core.checksums import Digests
from kumoi.core.http import FileBody
from kumoi.core.streams import DEFAULT_CHUNK, BodyStream, BodyTooLarge
from kumoi.storage.blob.contract import BlobInfo, Sealer
from kumoi.storage.faults import NO_FAULTS, FaultPlan

T = TypeVar("T")
#: Bytes handed to the write jobs.
_Data = bytes | bytearray | memoryview

#: Buffered bytes that trigger a write to the staging file (two thread jobs per flush).
FLUSH_SIZE = 1024 * 1024
#: Most bytes submitted to ``pwrite`` and not yet written, per writer (ten parallel part
#: uploads then hold at most 40 MiB while the disk catches up).
WRITE_WINDOW = 4 * 1024 * 1024
#: Bytes written between two background ``fdatasync`` calls.
SYNC_EVERY = 64 * 1024 * 1024
#: Threads shared by all writers and readers of one store.
IO_THREADS = 8
#: Chunk size ``write_stream`` asks its stream for.
READ_CHUNK = DEFAULT_CHUNK

_BLOB_ID = re.compile(r"[0-9a-f]{32}")
_FILE_MODE = 0o644
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


class InvalidBlobId(ValueError):
    """A blob id that this store cannot have issued (guards paths against traversal)."""


class WriterClosed(RuntimeError):
    """``write`` or ``commit`` after the writer was committed or aborted."""


def new_blob_id() -> str:
    return secrets.token_hex(16)


def _check_id(blob_id: str) -> str:
    if not _BLOB_ID.fullmatch(blob_id):
        raise InvalidBlobId(blob_id)
    return blob_id


def _pwrite_all(fd: int, data: _Data, offset: int, faults: FaultPlan) -> None:
    faults.check("write")
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _fsync(fd: int, faults: FaultPlan, *, data_only: bool = False) -> None:
    faults.check("fsync")
    if data_only:
        os.fdatasync(fd)
    else:
        os.fsync(fd)


def _fsync_dir(path: Path, faults: FaultPlan) -> None:
    faults.check("fsync")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """:class:`~kumoi.storage.blob.contract.BlobStore` on a local directory."""

    def __init__(self, root: Path, *, faults: FaultPlan = NO_FAULTS, io_threads: int = IO_THREADS) -> None:
        self.root = root
        self.blobs_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.faults = faults
        self._io_threads = io_threads
        self._pool: ThreadPoolExecutor | None = None
        self._known_dirs: set[Path] = set()
        self._dirs_lock = threading.Lock()
        self._top_locks: dict[Path, threading.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._io_threads, thread_name_prefix="kumoi-blob")
        await self.run(self._prepare)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)

    def _prepare(self) -> None:
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir)
        self.tmp_dir.mkdir(parents=True)
        _fsync_dir(self.root, NO_FAULTS)

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on the store's I/O threads."""
        if self._pool is None:
            raise RuntimeError("blob store not started")
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # -- paths -------------------------------------------------------------------------------

    def path_of(self, blob_id: str) -> Path:
        _check_id(blob_id)
        return self.blobs_dir / blob_id[:2] / blob_id[2:4] / blob_id

    def _ensure_dir(self, directory: Path) -> None:
        """Make sure the fan-out directory ``blobs/ab/cd`` exists durably.

        Only the directories a blob needs are made, when it first needs them (by a writer's first
        job, so a large blob's data streams in meanwhile): the leaf, its parent ``blobs/ab`` if
        new, and a sync of each one's parent, so the blob's own directory entry can be made
        durable. (Making all 256 siblings of a new leaf at once cost a fresh store seconds of
        ``mkdir`` calls across its first few hundred blobs.) Each directory is checked and synced
        once per run, existing or not, and only writers into the same ``blobs/ab`` wait for each
        other.
        """
        if directory in self._known_dirs:
            return
        top = directory.parent
        with self._dirs_lock:
            lock = self._top_locks.setdefault(top, threading.Lock())
        with lock:
            if directory in self._known_dirs:
                return
            self.faults.check("mkdir")
            if top not in self._known_dirs:
                with contextlib.suppress(FileExistsError):
                    top.mkdir()
                _fsync_dir(self.blobs_dir, self.faults)
                self._known_dirs.add(top)
            with contextlib.suppress(FileExistsError):
                directory.mkdir()
            _fsync_dir(top, self.faults)
            self._known_dirs.add(directory)

    # -- writing -----------------------------------------------------------------------------

    def new_writer(self, checksums: Iterable[str] = (), sealer: Sealer | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self, new_blob_id(), Digests(checksums), sealer)

    async def write_stream(
        self, stream: BodyStream, checksums: Iterable[str] = (), limit: int | None = None
    ) -> BlobInfo:
        writer = self.new_writer(checksums)
        try:
            while True:
                chunk = await stream.read(READ_CHUNK)
                if not chunk:
                    break
                if limit is not None and writer.size + len(chunk) > limit:
                    raise BodyTooLarge(limit)
                await writer.write(chunk)
            return await writer.commit()
        except BaseException:
            await writer.abort()
            raise

    # -- reading and deleting ----------------------------------------------------------------

    async def open(self, blob_id: str, offset: int = 0, length: int | None = None) -> FileBody:
        path = self.path_of(blob_id)
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        return await self.run(_open_range, path, offset, length)

    async def delete(self, blob_id: str) -> None:
        await self.run(_unlink_quietly, self.path_of(blob_id))


def _open_range(path: Path, offset: int, length: int | None) -> FileBody:
    fd = os.open(path, _READ_FLAGS)
    try:
        size = os.fstat(fd).st_size
    except BaseException:
        os.close(fd)
        raise
    start = min(offset, size)
    available = size - start
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            os.close(fd)

    return FileBody(fd, start, available if length is None else min(length, available), close)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_OPEN, _COMMITTED, _ABORTED = "open", "committed", "aborted"


class LocalBlobWriter:
    """Streams one blob into a staging file; see the module docstring for the pipeline."""

    def __init__(
        self, store: LocalBlobStore, blob_id: str, digests: Digests, sealer: Sealer | None = None
    ) -> None:
        self.blob_id = blob_id
        self._sealer = sealer
        self._store = store
        self._digests = digests
        self._buffer = bytearray()
        self._tmp = store.tmp_dir / f"{blob_id}.{secrets.token_hex(4)}"
        self._final = store.path_of(blob_id)
        self._fd = -1
        self._renamed = False
        self._offset = 0
        self._synced_at = 0
        self._hashing: asyncio.Future[None] | None = None
        self._file_job: asyncio.Future[Any] | None = None
        self._writes: deque[tuple[asyncio.Future[None], int]] = deque()
        self._in_flight = 0
        self._state = _OPEN
        self.size = 0

    async def write(self, data: bytes) -> None:
        if self._state is not _OPEN:
            raise WriterClosed(self.blob_id)
        if not data:
            return
        self.size += len(data)
        if self._sealer is not None:
            await self._write_sealed(data)
            return
        if not self._buffer and len(data) >= FLUSH_SIZE:
            await self._flush(data)
            return
        self._buffer += data
        if len(self._buffer) >= FLUSH_SIZE:
            chunk, self._buffer = self._buffer, bytearray()
            await self._flush(chunk)

    async def _write_sealed(self, data: bytes) -> None:
        """Buffer, and flush whole chunks while keeping at least one byte back for the final one."""
        assert self._sealer is not None
        size = self._sealer.chunk_size
        if not self._buffer and len(data) > FLUSH_SIZE:
            # A large write is flushed straight from the caller's bytes, but for its tail (at least
            # one byte, so the final chunk is sealed at commit).
            take = (len(data) - 1) // size * size
            await self._flush(memoryview(data)[:take])
            self._buffer += memoryview(data)[take:]
            return
        self._buffer += data
        if len(self._buffer) > FLUSH_SIZE:
            take = (len(self._buffer) - 1) // size * size
            full, self._buffer = self._buffer, bytearray(memoryview(self._buffer)[take:])
            await self._flush(memoryview(full)[:take])

    async def _flush(self, chunk: _Data, final: bool = False) -> None:
        """Hash and write ``chunk``, which nothing may change any more (the jobs read it later)."""
        store = self._store
        if self._fd < 0:
            await self._run_file_job(self._open_staging)
        if self._hashing is not None:
            await asyncio.shield(self._hashing)
        self._hashing = store.run(self._digests.update, cast(bytes, chunk))  # reads any buffer
        if self._sealer is None:
            job = store.run(_pwrite_all, self._fd, chunk, self._offset, store.faults)
        else:
            job = store.run(self._seal_and_write, chunk, self._offset, final)
        length = memoryview(chunk).nbytes
        self._writes.append((job, length))
        self._offset += length
        self._in_flight += length
        if self._offset - self._synced_at >= SYNC_EVERY:
            self._synced_at = self._offset
            self._writes.append((store.run(self._datasync), 0))
        while self._in_flight > WRITE_WINDOW:
            fut, size = self._writes[0]
            await asyncio.shield(fut)
            self._writes.popleft()
            self._in_flight -= size

    async def _run_file_job(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a job that creates, renames or closes the blob's files. It runs to its end even if
        the caller is cancelled meanwhile, and :meth:`abort` waits for it, so the clean-up never
        races it (a staging file created after the clean-up looked would be left behind)."""
        job = self._file_job = self._store.run(fn, *args)
        return await asyncio.shield(job)

    def _open_staging(self) -> None:
        self._fd = self._open_tmp()

    def _open_tmp(self) -> int:
        self._store._ensure_dir(self._final.parent)
        self._store.faults.check("open")
        fd = os.open(self._tmp, _TMP_FLAGS, _FILE_MODE)
        if self._sealer is not None:
            try:
                _pwrite_all(fd, self._sealer.header, 0, self._store.faults)
            except BaseException:
                os.close(fd)
                raise
        return fd

    def _seal_and_write(self, data: _Data, offset: int, final: bool) -> None:
        sealer = self._sealer
        assert sealer is not None
        plain = memoryview(data)
        first = offset // sealer.chunk_size
        count = max(1, -(-plain.nbytes // sealer.chunk_size))
        sealed = sealer.seal_chunks(first, plain, final)
        tag = (len(sealed) - plain.nbytes) // count
        _pwrite_all(self._fd, sealed, len(sealer.header) + offset + first * tag, self._store.faults)

    def _datasync(self) -> None:
        _fsync(self._fd, self._store.faults, data_only=True)

    async def _drain(self) -> None:
        """Wait for every submitted job; raise the first failure.

        The jobs' futures are never cancelled (a cancelled wait leaves them running on the I/O
        threads with nobody to wait for them): the waits are shielded, and the jobs stay listed
        until they are done, so :meth:`abort` waits for them before it closes and removes the file.
        """
        pending: list[asyncio.Future[None]] = [fut for fut, _size in self._writes]
        if self._hashing is not None:
            pending.append(self._hashing)
        results = await asyncio.shield(asyncio.gather(*pending, return_exceptions=True))
        self._writes.clear()
        self._in_flight = 0
        self._hashing = None
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def commit(self) -> BlobInfo:
        """Make the blob durable under its id. On failure everything is removed and the error raised."""
        if self._state is not _OPEN:
            raise WriterClosed(self.blob_id)
        try:
            if self._fd < 0:
                data, self._buffer = self._buffer, bytearray()
                info = await self._run_file_job(self._write_whole, data)
            else:
                if self._buffer or self._sealer is not None:
                    chunk, self._buffer = self._buffer, bytearray()
                    await self._flush(chunk, final=True)
                await self._drain()
                info = await self._run_file_job(self._finish)
        except BaseException:
            await self.abort()
            raise
        self._state = _COMMITTED
        return info

    def _write_whole(self, data: _Data) -> BlobInfo:
        """The one-hop path of a blob that fits in the buffer."""
        self._digests.update(cast(bytes, data))  # every digest reads any buffer
        self._fd = self._open_tmp()
        if self._sealer is None:
            _pwrite_all(self._fd, data, 0, self._store.faults)
        else:
            self._seal_and_write(data, 0, True)
        return self._finish()

    def _finish(self) -> BlobInfo:
        store, faults = self._store, self._store.faults
        fd, self._fd = self._fd, -1
        try:
            _fsync(fd, faults)
        finally:
            os.close(fd)
        store._ensure_dir(self._final.parent)
        faults.check("rename")
        os.rename(self._tmp, self._final)
        self._renamed = True
        _fsync_dir(self._final.parent, faults)
        return BlobInfo(self.blob_id, self.size, self._digests.md5(), self._digests.checksums())

    async def abort(self) -> None:
        """Discard the blob: wait for jobs still using its file, then remove the file.

        Idempotent, and a no-op after a successful commit. Runs to the end even if the calling
        task is cancelled meanwhile, so no file descriptor or staging file is left behind.
        """
        if self._state is not _OPEN:
            return
        self._state = _ABORTED
        self._buffer.clear()
        await asyncio.shield(self._discard())

    async def _discard(self) -> None:
        # The failure that led here, if any, was already reported to the caller.
        with contextlib.suppress(Exception):
            await self._drain()
        if self._file_job is not None:
            with contextlib.suppress(Exception):
                await self._file_job
        await self._store.run(self._remove_files)

    def _remove_files(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        _unlink_quietly(self._tmp)
        if self._renamed:
            _unlink_quietly(self._final)
