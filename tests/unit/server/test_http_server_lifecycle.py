"""The HTTP edge's lifecycle: binding, idle timeouts, graceful shutdown."""

from __future__ import annotations

import asyncio
import socket

from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.server.http import HttpLimits, HttpServer

from .http_testkit import at_eof, connect, get, ok, read_response, run, serving


def test_start_on_given_socket() -> None:
    async def main() -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = HttpServer(ok)
        await server.start("ignored", 0, sock=sock)
        assert server.port == sock.getsockname()[1]
        reader, writer = await connect(server.port)
        writer.write(get())
        assert (await read_response(reader)).body == b"hello"
        writer.close()
        await server.shutdown()

    run(main())


def test_idle_keep_alive_connection_is_closed() -> None:
    async def main() -> None:
        async with serving(ok, HttpLimits(keep_alive_timeout=0.2)) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            await read_response(reader)
            assert await at_eof(reader, wait=2)
            writer.close()

            reader, writer = await connect(server.port)  # trickling headers does not keep it open
            writer.write(b"GET / HTTP/1.1\r\n")
            assert await at_eof(reader, wait=2)
            writer.close()

    run(main())


def test_shutdown_finishes_in_flight_and_closes_idle() -> None:
    started = asyncio.Event()

    async def slow(req: HttpRequest) -> HttpResponse:
        if req.path == "/slow":
            started.set()
            await asyncio.sleep(0.3)
        return HttpResponse(200, [], req.path.encode())

    async def main() -> None:
        server = HttpServer(slow)
        await server.start("127.0.0.1", 0)
        port = server.port
        idle_reader, idle_writer = await connect(port)
        idle_writer.write(get("/idle"))
        await read_response(idle_reader)
        busy_reader, busy_writer = await connect(port)
        busy_writer.write(get("/slow"))
        await started.wait()
        await server.shutdown(grace=5)
        assert await at_eof(idle_reader, wait=0.1)
        response = await read_response(busy_reader)
        assert response.body == b"/slow" and response.closes
        assert await at_eof(busy_reader, wait=0.1)
        try:
            await asyncio.open_connection("127.0.0.1", port)
            refused = False
        except OSError:
            refused = True
        assert refused
        idle_writer.close()
        busy_writer.close()

    run(main())


def test_shutdown_grace_expires_and_cancels_handler() -> None:
    cancelled = asyncio.Event()

    async def stuck(req: HttpRequest) -> HttpResponse:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return HttpResponse(200)

    async def main() -> None:
        server = HttpServer(stuck)
        await server.start("127.0.0.1", 0)
        reader, writer = await connect(server.port)
        writer.write(get())
        await asyncio.sleep(0.05)
        await server.shutdown(grace=0.2)
        assert cancelled.is_set()
        assert await at_eof(reader, wait=1)
        writer.close()

    run(main())


def test_client_half_close_after_request_still_gets_answer() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            writer.write_eof()
            assert (await read_response(reader)).body == b"hello"
            assert await at_eof(reader, wait=1)
            writer.close()

    run(main())
