"""File response bodies sent with ``os.sendfile``: from the page cache to the socket, no copy.

uvloop has no ``loop.sendfile``, and its transports own their sockets, so the edge cannot wait for
a socket to become writable through the loop. Instead a worker thread calls ``os.sendfile`` on
the (non-blocking) socket and, when the socket is full, waits for it with ``poll`` for at most
:data:`POLL_SLICE` before it hands back to the loop; the loop then starts the next job, or gives
up once nothing has been sent for the edge's I/O timeout. A slow client so holds a thread for
short slices only, and a fast one gets the whole range in one job per :data:`JOB_BYTES`.

The jobs run on threads of their own (:data:`SEND_THREADS`), not the loop's default executor: a
sending thread spends most of its time waiting for its client, and with the default executor's
six threads (on two cores) ten parallel ranged GETs left four responses waiting for a thread
while the six threads waited for their clients (s5cmd's 1 GiB sealed download: 489-581 MiB/s with
the default executor, 581-877 with threads of their own, back to back on a loaded machine).

Compared with reading the file into memory and writing it through the transport (one copy out of
the page cache, one into the socket, a fresh buffer per read and a thread hop per MiB), this sends
a GiB for about a quarter of the server's CPU time (see ``docs/architecture.md``).

It is only used where it is safe: a plain TCP transport (TLS needs the bytes in user space) with
nothing queued in it, so the file's bytes follow the response head in order. While a job runs
nothing else writes to the connection (its task is busy answering this request). The jobs send
to a duplicate of the socket's descriptor, closed only after the last job has ended (even when
cancelled): if the transport closes its own descriptor meanwhile (the client reset the
connection, or shutdown aborted it), a job never writes to a number the process has reused for
another file or socket. The caller likewise keeps the file open until then.

A :class:`~kumoi.core.streams.ReaderBody` (a sealed object's plaintext) goes the same way with
:func:`send_reader`: each job has the body fill one reused buffer and writes it to the socket
before it fills it again, so its bytes never pass the event loop and no buffer is allocated per
chunk. A 1 GiB sealed object downloaded by s5cmd (ten parallel 8 MiB ranged GETs) cost the server
1.1-1.4 CPU seconds when every 2 MiB went through a fresh buffer and the transport (a quarter of it
page faults and zeroing of the fresh buffers) and costs 0.67-0.82 this way.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import select
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from kumoi.core.streams import ReaderBody

#: Seconds a worker waits for a full socket to drain before it hands back to the loop.
POLL_SLICE = 0.05
#: Most bytes one thread job sends (a cancelled response waits for its job to end).
JOB_BYTES = 16 * 1024 * 1024
#: Bytes of the buffer a :class:`ReaderBody` fills per call: it stays in the worker's cache
#: between being filled and being copied into the socket.
READER_BUFFER = 1024 * 1024
#: Most jobs sending at once, process-wide (threads are started as they are needed).
SEND_THREADS = 64
#: ``sendfile`` failures that mean the client is gone (not that the file is unreadable).
_GONE = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED})


class ClientGone(Exception):
    """The client closed the connection, or read nothing for the whole I/O timeout."""


class _Transport(Protocol):
    def get_extra_info(self, name: str, default: object = None) -> object: ...

    def get_write_buffer_size(self) -> int: ...


def socket_fd(transport: _Transport | None) -> int | None:
    """The transport's socket descriptor if a file may be sent to it directly, else ``None``."""
    if transport is None or transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    fileno = getattr(sock, "fileno", None)
    if fileno is None or transport.get_write_buffer_size():
        return None
    fd = fileno()
    return fd if isinstance(fd, int) and fd >= 0 else None


def send_some(sock_fd: int, file_fd: int, offset: int, count: int, wait: float) -> int:
    """Send up to ``count`` bytes of ``file_fd`` from ``offset``; return how many were sent, fewer
    when the socket stayed full for ``wait`` seconds. Runs on a worker thread."""
    sent = 0
    room = _Room(sock_fd)
    while sent < count:
        n = room.send(wait, os.sendfile, sock_fd, file_fd, offset + sent, count - sent)
        if n is None:
            return sent
        if n == 0:
            raise EOFError("file shorter than FileBody.length")
        if n > 0:
            sent += n
    return sent


class _Room:
    """Sends on a non-blocking socket, waiting for it to take more when it is full (the poller is
    made at the first wait)."""

    __slots__ = ("_fd", "_poller")

    def __init__(self, sock_fd: int) -> None:
        self._fd = sock_fd
        self._poller: select.poll | None = None

    def send(self, wait: float, attempt: Callable[..., int], *args: Any) -> int | None:
        """What ``attempt(*args)`` sent; -1 when the socket was full and then took more within
        ``wait`` seconds (attempt again), None when it stayed full. A client that is gone raises
        :class:`ClientGone`."""
        try:
            return attempt(*args)
        except BlockingIOError:
            if self._poller is None:
                self._poller = select.poll()
                self._poller.register(self._fd, select.POLLOUT)
            return -1 if self._poller.poll(wait * 1000) else None
        except OSError as exc:
            if exc.errno in _GONE:
                raise ClientGone() from exc
            raise


async def send_file(sock_fd: int, file_fd: int, offset: int, length: int, idle_limit: float) -> None:
    """Send ``length`` bytes of ``file_fd`` from ``offset`` to the socket.

    Raises :class:`ClientGone` when the client disconnects or reads nothing for ``idle_limit``
    seconds; ``EOFError``/``OSError`` when the file cannot be read. Never returns while a job
    still uses the descriptors.
    """

    def job(target: int, done: int, count: int) -> int:
        return send_some(target, file_fd, offset + done, count, POLL_SLICE)

    await _drive(sock_fd, length, idle_limit, job)


class _Pump:
    """Moves a reader body's bytes through one reused buffer into the socket (worker threads,
    one job at a time)."""

    __slots__ = ("_buffer", "_end", "_left", "_reader", "_start")

    def __init__(self, reader: ReaderBody, length: int) -> None:
        self._reader = reader
        self._buffer = memoryview(bytearray(min(READER_BUFFER, length)))
        self._start = self._end = 0
        self._left = length  # bytes still to be read from the body

    def send(self, sock_fd: int, count: int) -> int:
        """Send up to ``count`` bytes; fewer when the socket stayed full for :data:`POLL_SLICE`."""
        sent = 0
        room = _Room(sock_fd)
        while sent < count:
            if self._start == self._end:
                want = min(len(self._buffer), self._left)
                got = self._reader.readinto(self._buffer[:want])
                if got == 0:
                    raise EOFError("body shorter than its length")
                self._left -= got
                self._start, self._end = 0, got
            chunk = self._buffer[self._start : min(self._end, self._start + count - sent)]
            n = room.send(POLL_SLICE, os.write, sock_fd, chunk)
            if n is None:
                return sent
            if n > 0:
                self._start += n
                sent += n
        return sent


async def send_reader(sock_fd: int, reader: ReaderBody, length: int, idle_limit: float) -> None:
    """Send the ``length`` bytes of ``reader`` to the socket (see :func:`send_file` for errors;
    the reader's own failures propagate)."""
    pump = _Pump(reader, length)
    await _drive(sock_fd, length, idle_limit, lambda target, _done, count: pump.send(target, count))


@functools.cache
def _senders() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="kumoi-send")


async def _drive(sock_fd: int, length: int, idle_limit: float, job: Callable[[int, int, int], int]) -> None:
    """Run ``job(target_fd, bytes_sent_so_far, at_most)`` on worker threads until ``length``
    bytes are sent. Never returns while a job still runs."""
    loop = asyncio.get_running_loop()
    done = 0
    progress = time.monotonic()
    try:
        target = os.dup(sock_fd)
    except OSError as exc:
        raise ClientGone() from exc
    try:
        while done < length:
            running = loop.run_in_executor(_senders(), job, target, done, min(JOB_BYTES, length - done))
            try:
                sent = await asyncio.shield(running)
            except asyncio.CancelledError:
                # The descriptors must outlive the job; its outcome no longer matters.
                await asyncio.wait([running])
                if not running.cancelled():
                    running.exception()
                raise
            if sent:
                done += sent
                progress = time.monotonic()
            elif time.monotonic() - progress > idle_limit:
                raise ClientGone()
    finally:
        os.close(target)
