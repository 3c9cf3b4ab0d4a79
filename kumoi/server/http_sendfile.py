"""File response bodies sent with ``os.sendfile``: from the page cache to the socket, no copy.

uvloop has no ``loop.sendfile``, and its transports own their sockets, so the edge cannot wait for
a socket to become writable through the loop. Instead a worker thread calls ``os.sendfile`` on
the (non-blocking) socket and, when the socket is full, waits for it with ``poll`` for at most
:data:`POLL_SLICE` before it hands back to the loop; the loop then starts the next job, or gives
up once nothing has been sent for the edge's I/O timeout. A slow client so holds a thread for
short slices only, and a fast one gets the whole range in one job per :data:`JOB_BYTES`.

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
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import time
from typing import Protocol

#: Seconds a worker waits for a full socket to drain before it hands back to the loop.
POLL_SLICE = 0.05
#: Most bytes one thread job sends (a cancelled response waits for its job to end).
JOB_BYTES = 16 * 1024 * 1024
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
    poller: select.poll | None = None
    while sent < count:
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, count - sent)
        except BlockingIOError:
            if poller is None:
                poller = select.poll()
                poller.register(sock_fd, select.POLLOUT)
            if not poller.poll(wait * 1000):
                return sent
            continue
        except OSError as exc:
            if exc.errno in _GONE:
                raise ClientGone() from exc
            raise
        if n == 0:
            raise EOFError("file shorter than FileBody.length")
        sent += n
    return sent


async def send_file(sock_fd: int, file_fd: int, offset: int, length: int, idle_limit: float) -> None:
    """Send ``length`` bytes of ``file_fd`` from ``offset`` to the socket.

    Raises :class:`ClientGone` when the client disconnects or reads nothing for ``idle_limit``
    seconds; ``EOFError``/``OSError`` when the file cannot be read. Never returns while a job
    still uses the descriptors.
    """
    loop = asyncio.get_running_loop()
    end = offset + length
    progress = time.monotonic()
    try:
        target = os.dup(sock_fd)
    except OSError as exc:
        raise ClientGone() from exc
    try:
        while offset < end:
            job = loop.run_in_executor(
                None, send_some, target, file_fd, offset, min(JOB_BYTES, end - offset), POLL_SLICE
            )
            try:
                sent = await asyncio.shield(job)
            except asyncio.CancelledError:
                # The descriptors must outlive the job; its outcome no longer matters.
                await asyncio.wait([job])
                if not job.cancelled():
                    job.exception()
                raise
            if sent:
                offset += sent
                progress = time.monotonic()
            elif time.monotonic() - progress > idle_limit:
                raise ClientGone()
    finally:
        os.close(target)
