"""Helpers for the HTTP edge tests: a real server on 127.0.0.1 port 0 under uvloop, raw clients."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import uvloop

from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.server.http import HttpLimits, HttpServer

TEST_TIMEOUT = 20.0
DEFAULT_LIMITS = HttpLimits()


def run(coro: Coroutine[Any, Any, None], timeout: float = TEST_TIMEOUT) -> None:
    """Run one test coroutine on a fresh uvloop loop."""
    uvloop.run(asyncio.wait_for(coro, timeout))


@asynccontextmanager
async def serving(
    handler: Callable[[HttpRequest], Awaitable[HttpResponse]],
    limits: HttpLimits = DEFAULT_LIMITS,
    errors: list[BaseException] | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[HttpServer]:
    server = HttpServer(handler, limits, on_error=None if errors is None else errors.append)
    await server.start("127.0.0.1", 0, tls=tls)
    try:
        yield server
    finally:
        await server.shutdown(grace=1.0)


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


async def read_response(reader: asyncio.StreamReader, *, head: bool = False) -> Response:
    """Read one HTTP/1.1 response (Content-Length, chunked, or until EOF)."""
    status_line = (await reader.readuntil(b"\r\n")).decode("latin-1").rstrip("\r\n")
    _, status, reason = status_line.split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        line = (await reader.readuntil(b"\r\n")).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    code = int(status)
    if head or code in (100, 204, 304):
        body = b""
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readuntil(b"\r\n")
        body = b"".join(parts)
    else:
        body = await reader.read()
    return Response(code, reason, headers, body)


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)


async def request(port: int, raw: bytes, *, head: bool = False) -> Response:
    """Send ``raw`` on a new connection and read one response."""
    reader, writer = await connect(port)
    try:
        writer.write(raw)
        return await read_response(reader, head=head)
    finally:
        writer.close()


async def read_cut_response(reader: asyncio.StreamReader) -> None:
    """Read a response the server must cut off: the connection ends before the response does."""
    with pytest.raises(asyncio.IncompleteReadError):
        await read_response(reader)


async def get_cut_off(port: int) -> None:
    """A GET on a new connection whose response the server must cut off."""
    reader, writer = await connect(port)
    try:
        writer.write(get())
        await read_cut_response(reader)
    finally:
        writer.close()


async def tls_get(port: int, cafile: Path) -> Response:
    """One GET over TLS to ``localhost``, trusting ``cafile``."""
    client = ssl.create_default_context(cafile=str(cafile))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client, server_hostname="localhost", limit=1 << 22
    )
    try:
        writer.write(get())
        return await read_response(reader)
    finally:
        writer.close()


async def stalled_get(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.Transport]:
    """A GET from a client that reads nothing of the response until ``transport.resume_reading()``."""
    reader, writer = await connect(port)
    transport = cast(asyncio.Transport, writer.transport)
    transport.pause_reading()
    writer.write(get())
    return reader, writer, transport


async def at_eof(reader: asyncio.StreamReader, wait: float = 5.0) -> bool:
    """Whether the server closes the connection (within ``wait`` s) without sending more."""
    try:
        return await asyncio.wait_for(reader.read(1), wait) == b""
    except ConnectionResetError:
        return True


def get(path: str = "/", extra: str = "", version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: test\r\n{extra}\r\n".encode("latin-1")


async def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, [("Content-Type", "text/plain")], b"hello")
