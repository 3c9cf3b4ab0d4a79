"""Reader bodies (``ReaderBody``): filled on worker threads and written straight to plain TCP
sockets, iterated on TLS; slow, vanishing and stalled clients; failing and short readers."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.core.streams import READER_CHUNK, ReaderBody
from kumoi.runtime import tls
from kumoi.server import http_sendfile
from kumoi.server.http import HttpLimits

from .http_testkit import (
    connect,
    get,
    get_cut_off,
    read_cut_response,
    read_response,
    run,
    serving,
    stalled_get,
    tls_get,
)

SIZE = 5 * http_sendfile.READER_BUFFER + 12345
DATA = os.urandom(SIZE)


class Reader(ReaderBody):
    """``DATA[:length]`` (or ``data``), optionally failing after ``fail_after`` bytes; records the
    threads and buffer sizes of its reads and how often it was released."""

    def __init__(self, length: int = SIZE, *, data: bytes = DATA, fail_after: int | None = None) -> None:
        super().__init__(length)
        self.data = data
        self.position = 0
        self.fail_after = fail_after
        self.threads: set[int] = set()
        self.sizes: list[int] = []
        self.released = 0
        self.done = threading.Event()

    def readinto(self, buffer: memoryview) -> int:
        self.threads.add(threading.get_ident())
        self.sizes.append(len(buffer))
        if self.fail_after is not None and self.position >= self.fail_after:
            raise OSError("disk gone")
        piece = self.data[self.position : self.position + len(buffer)]
        buffer[: len(piece)] = piece
        self.position += len(piece)
        return len(piece)

    def release(self) -> None:
        self.released += 1
        self.done.set()


def response(body: Reader) -> HttpResponse:
    return HttpResponse(200, [], body, content_length=body.length)


def test_plain_tcp_bodies_go_from_worker_threads_to_the_socket() -> None:
    bodies: list[Reader] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        bodies.append(Reader())
        return response(bodies[-1])

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            for _ in range(2):
                writer.write(get())
                assert (await read_response(reader)).body == DATA
            writer.close()

    run(main())
    assert [body.released for body in bodies] == [1, 1]
    for body in bodies:
        assert threading.main_thread().ident not in body.threads
        # One reused buffer, filled whole but for the rest at the end.
        assert set(body.sizes[:-1]) == {http_sendfile.READER_BUFFER}


def test_slow_client_gets_every_byte() -> None:
    async def handler(req: HttpRequest) -> HttpResponse:
        return response(Reader())

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            # Stall past several poll slices before reading.
            await asyncio.sleep(0.3)
            assert (await read_response(reader)).body == DATA
            writer.close()

    run(main())


def test_client_that_stops_reading_is_dropped_after_the_io_timeout() -> None:
    body = Reader()

    async def handler(req: HttpRequest) -> HttpResponse:
        return response(body)

    async def main() -> None:
        async with serving(handler, HttpLimits(io_timeout=0.5)) as server:
            reader, writer, transport = await stalled_get(server.port)
            await asyncio.wait_for(asyncio.to_thread(body.done.wait), 10)
            transport.resume_reading()
            await read_cut_response(reader)
            writer.close()

    run(main())
    assert body.released == 1


@pytest.mark.parametrize(
    "body", [Reader(fail_after=2 * http_sendfile.READER_BUFFER), Reader(data=DATA[:1000])]
)
def test_failing_or_short_reader_drops_the_connection(body: Reader) -> None:
    errors: list[BaseException] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return response(body)

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            await get_cut_off(server.port)

    run(main())
    assert body.released == 1
    assert len(errors) == 1


def test_client_gone_mid_body_releases_the_reader() -> None:
    body = Reader(SIZE * 20, data=DATA * 20)

    async def handler(req: HttpRequest) -> HttpResponse:
        return response(body)

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            await reader.readexactly(1000)
            writer.transport.abort()
            await asyncio.wait_for(asyncio.to_thread(body.done.wait), 10)

    run(main())
    assert body.released == 1
    assert body.position < SIZE * 20


def test_tls_connections_iterate_the_body(tmp_path: Path) -> None:
    """TLS needs the bytes in user space: the edge iterates the body instead."""
    bodies: list[Reader] = []
    cert, key = tls.self_signed(tmp_path / "tls", ["localhost"])

    async def handler(req: HttpRequest) -> HttpResponse:
        bodies.append(Reader())
        return response(bodies[-1])

    async def main() -> None:
        async with serving(handler, tls=tls.server_context(cert, key)) as server:
            assert (await tls_get(server.port, cert)).body == DATA

    run(main())
    assert bodies[0].released == 1
    assert set(bodies[0].sizes) == {READER_CHUNK}
