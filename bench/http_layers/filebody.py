"""Throughput of a ``FileBody`` GET: 1 GiB from the page cache to a loopback client.

Usage: ``python bench/http_layers/filebody.py [size_mib]``. The server (kumoi's edge on uvloop)
runs in this process; the client is a separate process that reads into a reused 1 MiB buffer.
Prints MB/s (10^6 bytes per second) for a few rounds.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time

import uvloop

from kumoi.core.http import FileBody, HttpRequest, HttpResponse
from kumoi.server.http import HttpServer

ROUNDS = 3
CLIENT = r"""
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
sock = socket.create_connection(("127.0.0.1", port))
sock.sendall(b"GET /f HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
buf = bytearray(1 << 20)
view = memoryview(buf)
total = 0
while n := sock.recv_into(view):
    total += n
assert total > size, total
"""


def make_file(size: int) -> str:
    """A file of ``size`` random bytes, read once so that it sits in the page cache."""
    handle = tempfile.NamedTemporaryFile(dir="/tmp", delete=False)  # noqa: SIM115 - unlinked by caller
    with handle:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            handle.write(block)
    with open(handle.name, "rb") as warm:
        while warm.read(1 << 24):
            pass
    return handle.name


async def main(path: str, size: int) -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        fd = os.open(path, os.O_RDONLY)
        return HttpResponse(200, [], FileBody(fd, 0, size, lambda: os.close(fd)))

    server = HttpServer(handler)
    await server.start("127.0.0.1", 0)
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT, str(server.port), str(size)
        )
        assert await client.wait() == 0
        elapsed = time.perf_counter() - start
        print(f"{size >> 20} MiB in {elapsed:.3f} s: {size / elapsed / 1e6:,.0f} MB/s", flush=True)
    await server.shutdown()


if __name__ == "__main__":
    total = (int(sys.argv[1]) if len(sys.argv) > 1 else 1024) << 20
    name = make_file(total)
    try:
        uvloop.run(main(name, total))
    finally:
        os.unlink(name)
