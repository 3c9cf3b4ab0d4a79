"""Probe: would ``os.sendfile`` beat the edge's pread + ``transport.write`` path for FileBody?

uvloop does not implement ``loop.sendfile`` (NotImplementedError), so the only way to sendfile is
around the transport: wait for its buffer to empty, ``dup`` the socket descriptor and call
``os.sendfile`` on it, either on the loop (non-blocking, ``add_writer`` on EAGAIN) or in a worker
thread. Usage: ``python bench/http_layers/sendfile_probe.py loop|thread [size_mib]``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import uvloop
from filebody import CLIENT, ROUNDS, make_file

SLICE = 8 << 20


class Sender(asyncio.Protocol):
    def __init__(self, path: str, size: int, in_thread: bool) -> None:
        self.path, self.size, self.in_thread = path, size, in_thread
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        asyncio.get_running_loop().create_task(self.send())

    async def send(self) -> None:
        loop = asyncio.get_running_loop()
        transport = self.transport
        assert transport is not None
        transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % self.size)
        while transport.get_write_buffer_size():  # noqa: ASYNC110 - a probe, not the edge
            await asyncio.sleep(0.001)
        sock = os.dup(transport.get_extra_info("socket").fileno())
        file = os.open(self.path, os.O_RDONLY)
        offset = 0
        try:
            while offset < self.size:
                try:
                    if self.in_thread:
                        count = min(self.size - offset, SLICE)
                        offset += await loop.run_in_executor(None, os.sendfile, sock, file, offset, count)
                    else:
                        offset += os.sendfile(sock, file, offset, self.size - offset)
                except BlockingIOError:
                    writable = loop.create_future()
                    loop.add_writer(sock, writable.set_result, None)
                    try:
                        await writable
                    finally:
                        loop.remove_writer(sock)
        finally:
            os.close(sock)
            os.close(file)
        transport.close()


async def main(path: str, size: int, in_thread: bool) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Sender(path, size, in_thread), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT, str(port), str(size))
        assert await client.wait() == 0
        elapsed = time.perf_counter() - start
        print(f"sendfile ({sys.argv[1]}): {size / elapsed / 1e6:,.0f} MB/s", flush=True)
    server.close()


if __name__ == "__main__":
    total = (int(sys.argv[2]) if len(sys.argv) > 2 else 1024) << 20
    name = make_file(total)
    try:
        uvloop.run(main(name, total, sys.argv[1] == "thread"))
    finally:
        os.unlink(name)
