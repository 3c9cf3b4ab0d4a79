"""Candidate (d): our own asyncio.Protocol with the httptools parser, on uvloop.

A fair minimum of what the production edge does: one handler coroutine per request (run as a
task, like the other candidates), the body handed over through a small buffer with an awaitable
``read``. No backpressure or 100-continue: this measures the floor of the layer.
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

import httptools
import uvloop

GET_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nServer: bench\r\n\r\n" + b"x" * 4096
PUT_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: bench\r\n\r\n"


class Body:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.done = False
        self.waiter: asyncio.Future[None] | None = None

    def feed(self, data: bytes) -> None:
        self.chunks.append(data)
        self.wake()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def read(self) -> bytes:
        while not self.chunks:
            if self.done:
                return b""
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.chunks.pop(0)


async def handle(method: bytes, body: Body) -> bytes:
    if method == b"PUT":
        while await body.read():
            pass
        return PUT_RESPONSE
    return GET_RESPONSE


class Raw(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.body = Body()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_headers_complete(self) -> None:
        self.body = Body()
        task = asyncio.get_running_loop().create_task(handle(self.parser.get_method(), self.body))
        task.add_done_callback(self.respond)

    def on_body(self, body: bytes) -> None:
        self.body.feed(body)

    def on_message_complete(self) -> None:
        self.body.done = True
        self.body.wake()

    def respond(self, task: asyncio.Task[bytes]) -> None:
        assert self.transport is not None
        self.transport.write(task.result())


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_server(Raw, "127.0.0.1", port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
