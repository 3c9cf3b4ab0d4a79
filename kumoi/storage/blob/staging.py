"""Writing a file front to back through an aligned staging buffer, so a large blob can skip the
page cache (``O_DIRECT``).

Why: writing a blob through the page cache copies it into freshly allocated cache pages, and on
a VM whose balloon hands freed memory back to the host, every fresh page also costs a host fault.
Writing 1 GiB of new file through the page cache cost 0.3 to 3.1 CPU-s on the benchmark machine;
with ``O_DIRECT`` from one reused buffer it cost 0.05. Large blobs are read the same way
(:class:`DirectReader`), so the page cache is left to small objects.

``O_DIRECT`` wants the buffer's address, the file offset and the length aligned to the device's
block, so bytes are staged in a page-aligned buffer (an anonymous ``mmap``) and written in whole
:data:`BLOCK` s; the last 0..BLOCK-1 bytes stay staged until more arrive, and
:meth:`StagedFile.finish` writes them through the page cache. Where ``O_DIRECT`` is refused
(older tmpfs, some FUSE file systems) the same code writes through the page cache, as it does for
files opened without it (small blobs, whose one write gains nothing from it).

Buffers come from a :class:`StagingPool` and go back to it, so their pages stay mapped.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from kumoi.core import secret_bytes
from kumoi.storage.faults import FaultPlan

#: Alignment of every ``O_DIRECT`` write: offset, length and buffer address (the page size, a
#: multiple of every common device's logical block).
BLOCK = 4096
#: Bytes of a pooled buffer: a writer's flush (1 MiB, sealed) with its carried tail fits, and so
#: does a reader's batch of sealed chunks (2 MiB and their tags) with the blocks around it.
STAGING_SIZE = 2 * 1024 * 1024 + 64 * 1024
#: Free buffers a pool keeps (one per concurrent large upload or download stays mapped).
POOL_SIZE = 16
#: ``os.O_DIRECT`` where the platform has it.
DIRECT_FLAG = getattr(os, "O_DIRECT", 0)

_Data = bytes | bytearray | memoryview


def supports_direct(directory: Path) -> bool:
    """Whether files created in ``directory`` can be opened with ``O_DIRECT``."""
    if not DIRECT_FLAG:
        return False
    probe = directory / f".direct-probe-{secret_bytes.token_bytes(4).hex()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | DIRECT_FLAG, 0o600)
    except OSError as error:
        if error.errno == errno.EINVAL:
            return False
        raise
    os.close(fd)
    os.unlink(probe)
    return True


class StagingPool:
    """Page-aligned buffers shared by the writers and readers of one store."""

    def __init__(self, size: int = STAGING_SIZE, keep: int = POOL_SIZE) -> None:
        self.size = size
        self._keep = keep
        self._free: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self, length: int = 0) -> mmap.mmap:
        """A buffer of at least ``length`` bytes (a fresh one past the pool's size)."""
        if length > self.size:
            return mmap.mmap(-1, -(-length // BLOCK) * BLOCK)
        with self._lock:
            if self._free:
                return self._free.pop()
        return mmap.mmap(-1, self.size)

    def give(self, buffer: mmap.mmap) -> None:
        """Take ``buffer`` back, if it is a pool-sized one and the pool is not full (else it is
        unmapped once nothing refers to it)."""
        if len(buffer) == self.size:
            with self._lock:
                if len(self._free) < self._keep:
                    self._free.append(buffer)


def _pwrite_all(fd: int, data: _Data, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _pwritev_all(fd: int, pieces: Sequence[_Data], offset: int) -> None:
    """Write ``pieces`` one after the other from ``offset``, in as few system calls as the kernel
    allows (a short write resumes from where it stopped)."""
    views = [memoryview(piece) for piece in pieces]
    while views:
        written = os.pwritev(fd, views, offset)
        offset += written
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if written:
            views[0] = views[0][written:]


class _PooledFile:
    """An open file and a buffer from a pool; :meth:`close` closes the one and gives the other back."""

    def __init__(self, fd: int, pool: StagingPool, direct: bool) -> None:
        self.fd = fd
        self._pool = pool
        self._direct = direct
        self._buffer: mmap.mmap | None = None
        self._view = memoryview(b"")

    def close(self) -> None:
        buffer, self._buffer = self._buffer, None
        self._view = memoryview(b"")
        if buffer is not None:
            self._pool.give(buffer)
        os.close(self.fd)

    def _replace_buffer(self, length: int, keep: int = 0) -> None:
        """Take a buffer of at least ``length`` bytes, carrying the first ``keep`` bytes over."""
        fresh = self._pool.take(length)
        view = memoryview(fresh)
        view[:keep] = self._view[:keep]
        if self._buffer is not None:
            self._pool.give(self._buffer)
        self._buffer, self._view = fresh, view

    def _stop_direct(self) -> None:
        set_direct(self.fd, False)
        self._direct = False


class DirectReader(_PooledFile):
    """Reads a file opened with ``O_DIRECT`` (``direct``) or without, at any offset: a direct read
    covers whole blocks into an aligned buffer, and the bytes asked for are a view into it."""

    def read(self, offset: int, length: int) -> memoryview:
        if length <= 0:
            return memoryview(b"")
        start = offset & -BLOCK if self._direct else offset
        end = -(-(offset + length) // BLOCK) * BLOCK if self._direct else offset + length
        if end - start > len(self._view):
            self._replace_buffer(end - start)
        try:
            got = os.preadv(self.fd, [self._view[: end - start]], start)
        except OSError as error:
            if not (self._direct and error.errno == errno.EINVAL):
                raise
            self._stop_direct()
            return self.read(offset, length)
        skip = offset - start
        return self._view[skip : skip + max(0, min(length, got - skip))]


class StagedFile(_PooledFile):
    """Appends to the file ``fd`` from offset 0 onward; ``direct`` says it was opened with
    ``O_DIRECT``. One thread at a time uses it. :meth:`close` closes ``fd`` too (nothing staged
    is written)."""

    def __init__(self, fd: int, pool: StagingPool, direct: bool, faults: FaultPlan) -> None:
        super().__init__(fd, pool, direct)
        self._faults = faults
        #: File offset of the buffer's first byte, and bytes staged in it.
        self._position = 0
        self._fill = 0

    @property
    def size(self) -> int:
        """Bytes appended so far (written or staged)."""
        return self._position + self._fill

    def append(self, pieces: Sequence[_Data]) -> None:
        """Append ``pieces``, one after the other."""
        if not self._direct and not self._fill:
            self._faults.check("write")
            _pwritev_all(self.fd, pieces, self._position)
            self._position += sum(memoryview(piece).nbytes for piece in pieces)
            return
        if self._buffer is None:
            self._replace_buffer(0)
        for piece in pieces:
            view = memoryview(piece).cast("B")
            while view.nbytes:
                if self._fill == len(self._view):
                    self._drain()
                taken = min(len(self._view) - self._fill, view.nbytes)
                self._view[self._fill : self._fill + taken] = view[:taken]
                self._fill += taken
                view = view[taken:]
        self._drain()

    def reserve(self, length: int) -> memoryview:
        """A writable view of the next ``length`` staged bytes (the buffer grows if need be);
        :meth:`advance` appends what was put there."""
        end = self._fill + length
        if self._buffer is None or end > len(self._buffer):
            self._replace_buffer(end, keep=self._fill)
        return self._view[self._fill : end]

    def advance(self, length: int) -> None:
        """Append the ``length`` bytes put into the view :meth:`reserve` gave."""
        self._fill += length
        self._drain()

    def finish(self) -> None:
        """Write what is still staged: the file's last, partial block."""
        if self._fill:
            if self._direct:
                self._stop_direct()
            self._drain()

    def _drain(self) -> None:
        """Write the staged whole blocks (all staged bytes without ``O_DIRECT``); carry the rest
        to the buffer's start."""
        whole = self._fill & -BLOCK if self._direct else self._fill
        if not whole:
            return
        self._write(self._view[:whole])
        tail = self._fill - whole
        if tail:
            self._view[:tail] = self._view[whole : self._fill]
        self._position += whole
        self._fill = tail

    def _write(self, data: memoryview) -> None:
        self._faults.check("write")
        try:
            _pwrite_all(self.fd, data, self._position)
        except OSError as error:
            # A file system may accept O_DIRECT at open and refuse the write: go on without it.
            if not (self._direct and error.errno == errno.EINVAL):
                raise
            self._stop_direct()
            _pwrite_all(self.fd, data, self._position)


def set_direct(fd: int, on: bool) -> bool:
    """Switch ``O_DIRECT`` on or off for ``fd``; whether it is on now (a file system may refuse)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | DIRECT_FLAG if on else flags & ~DIRECT_FLAG)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & DIRECT_FLAG)
