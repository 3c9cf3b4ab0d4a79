"""File responses sent with ``os.sendfile``: slow and vanishing clients, idle limits, when it applies."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kumoi.core.http import FileBody, HttpRequest, HttpResponse
from kumoi.runtime import tls
from kumoi.server import http_sendfile
from kumoi.server.http import HttpLimits

from .http_testkit import connect, get, read_cut_response, read_response, run, serving, stalled_get, tls_get

SIZE = 6 * (1 << 20) + 321


@pytest.fixture
def data_file() -> Iterator[tuple[str, bytes]]:
    data = os.urandom(SIZE)
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(data)
    yield handle.name, data
    os.unlink(handle.name)


def file_body(path: str, offset: int, length: int, closes: list[int]) -> FileBody:
    fd = os.open(path, os.O_RDONLY)

    def close() -> None:
        closes.append(fd)
        os.close(fd)

    return FileBody(fd, offset, length, close)


def test_send_some_returns_partial_when_the_socket_stays_full(data_file: tuple[str, bytes]) -> None:
    path, data = data_file
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    fd = os.open(path, os.O_RDONLY)
    try:
        started = time.monotonic()
        sent = http_sendfile.send_some(ours.fileno(), fd, 10, SIZE - 10, 0.05)
        assert 0 < sent < SIZE - 10
        assert time.monotonic() - started < 2
        received = bytearray()

        def drain() -> None:
            while len(received) < SIZE - 10:
                received.extend(theirs.recv(1 << 20))

        reader = threading.Thread(target=drain)
        reader.start()
        while sent < SIZE - 10:
            sent += http_sendfile.send_some(ours.fileno(), fd, 10 + sent, SIZE - 10 - sent, 0.05)
        reader.join(10)
        assert bytes(received) == data[10:]
    finally:
        os.close(fd)
        ours.close()
        theirs.close()


def test_send_some_raises_client_gone_when_the_peer_closed(data_file: tuple[str, bytes]) -> None:
    path, _ = data_file
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(http_sendfile.ClientGone):
            http_sendfile.send_some(ours.fileno(), fd, 0, SIZE, 0.05)
    finally:
        os.close(fd)
        ours.close()


class FakeTransport:
    def __init__(self, extra: dict[str, object], buffered: int = 0) -> None:
        self.extra = extra
        self.buffered = buffered

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self.extra.get(name, default)

    def get_write_buffer_size(self) -> int:
        return self.buffered


def test_only_plain_sockets_with_nothing_queued_qualify() -> None:
    with socket.socket() as sock:
        assert http_sendfile.socket_fd(FakeTransport({"socket": sock})) == sock.fileno()
        assert http_sendfile.socket_fd(FakeTransport({"socket": sock}, buffered=10)) is None
        assert http_sendfile.socket_fd(FakeTransport({"socket": sock, "sslcontext": object()})) is None
    assert http_sendfile.socket_fd(FakeTransport({})) is None
    assert http_sendfile.socket_fd(None) is None


def test_slow_reader_gets_every_byte_then_the_connection_is_reused(data_file: tuple[str, bytes]) -> None:
    path, data = data_file
    closes: list[int] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(206, [], file_body(path, 1, SIZE - 2, closes))

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            # Stall past several poll slices before reading, then read in small pieces.
            await asyncio.sleep(0.3)
            response = await read_response(reader)
            assert response.body == data[1:-1]
            writer.write(get())
            assert (await read_response(reader)).body == data[1:-1]
            writer.close()
        assert len(closes) == 2

    run(main())


def test_reader_that_stops_is_dropped_after_the_io_timeout(data_file: tuple[str, bytes]) -> None:
    path, _ = data_file
    closes: list[int] = []

    closed = asyncio.Event()

    async def handler(req: HttpRequest) -> HttpResponse:
        body = file_body(path, 0, SIZE, closes)

        def close() -> None:
            body.close()
            closed.set()

        return HttpResponse(200, [], FileBody(body.fd, body.offset, body.length, close))

    async def main() -> None:
        async with serving(handler, HttpLimits(io_timeout=0.5)) as server:
            reader, writer, transport = await stalled_get(server.port)
            await asyncio.wait_for(closed.wait(), 10)
            assert len(closes) == 1
            transport.resume_reading()
            await read_cut_response(reader)
            writer.close()

    run(main())


def test_tls_connections_still_get_file_bodies(data_file: tuple[str, bytes], tmp_path: Path) -> None:
    """TLS needs the bytes in user space: the edge falls back to reading the file."""
    path, data = data_file
    closes: list[int] = []
    cert, key = tls.self_signed(tmp_path / "tls", ["localhost"])

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], file_body(path, 0, SIZE, closes))

    async def main() -> None:
        async with serving(handler, tls=tls.server_context(cert, key)) as server:
            assert (await tls_get(server.port, cert)).body == data
        assert len(closes) == 1

    run(main())
