"""Hostile bytes at the HTTP edge: every input gets a clean answer or a close, never a crash."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
import uvloop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.server.http import HttpLimits, HttpServer

LIMITS = HttpLimits(max_header_bytes=2048, max_headers=20, max_request_line=512, io_timeout=1.0)


async def consume(req: HttpRequest) -> HttpResponse:
    total = 0
    try:
        while chunk := await req.body.read(1000):
            total += len(chunk)
    except ServiceError as exc:
        return HttpResponse(exc.status, [], exc.code.encode())
    return HttpResponse(200, [], str(total).encode())


class ThreadServer:
    """The edge on its own uvloop loop in a thread, for blocking-socket clients."""

    def __init__(self, handler: Callable[[HttpRequest], Awaitable[HttpResponse]] = consume) -> None:
        self.errors: list[BaseException] = []
        self.loop = uvloop.new_event_loop()
        self.server = HttpServer(handler, LIMITS, on_error=self.errors.append)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop).result(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(1.0), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def edge() -> Iterator[ThreadServer]:
    server = ThreadServer()
    yield server
    server.stop()


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may already have answered and closed
        received = []
        try:
            while data := sock.recv(65536):
                received.append(data)
        except ConnectionResetError:
            pass
    return b"".join(received)


token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789", min_size=1, max_size=20)
header_value = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
method = st.sampled_from([b"GET", b"PUT", b"POST", b"HEAD", b"DELETE", b"OPTIONS", b"BREW", b""])
target = st.binary(max_size=600)
headers = st.lists(st.tuples(token, header_value), max_size=25)
framing = st.sampled_from(
    [
        b"",
        b"Content-Length: 5\r\n",
        b"Content-Length: -1\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        b"Expect: 100-continue\r\nContent-Length: 4\r\n",
        b"Content-Length: 99999999999999999999999\r\n",
    ]
)
tail = st.binary(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method,
    target,
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.x"]),
    headers,
    framing,
    tail,
    st.integers(0, 3),
)
def test_random_requests_get_clean_answers(
    edge: ThreadServer,
    verb: bytes,
    path: bytes,
    version: bytes,
    fields: list[tuple[str, bytes]],
    frame: bytes,
    rest: bytes,
    repeat: int,
) -> None:
    head = verb + b" /" + path + b" " + version + b"\r\n"
    head += b"".join(name.encode() + b": " + value + b"\r\n" for name, value in fields)
    raw = (head + frame + b"\r\n" + rest) * (repeat + 1)
    answer = exchange(edge.server.port, raw)
    for part in answer.split(b"HTTP/1.1 ")[1:]:
        assert part[:3] in (b"100", b"200", b"400"), answer[:300]
    assert not edge.errors
    assert exchange(edge.server.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200 "
    )


async def digest(req: HttpRequest) -> HttpResponse:
    sha = hashlib.sha256()
    while chunk := await req.body.read(100_000):
        sha.update(chunk)
    return HttpResponse(200, [], sha.hexdigest().encode())


@pytest.fixture(scope="module")
def digesting_edge() -> Iterator[ThreadServer]:
    server = ThreadServer(digest)
    yield server
    server.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 400_000), min_size=1, max_size=3),
    cuts=st.lists(st.integers(1, 300_000), max_size=6),
)
def test_pipelined_bodies_of_any_size_and_split_arrive_exactly(
    digesting_edge: ThreadServer, sizes: list[int], cuts: list[int]
) -> None:
    """Large bodies bypass the parser (``RAW_BODY_MIN``): wherever the socket reads split them,
    every body arrives byte for byte and the requests after them parse."""
    bodies = [bytes((n + i) % 256 for i in range(size)) for n, size in enumerate(sizes)]
    raw = b"".join(b"PUT /o HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body for body in bodies)
    raw += b"PUT /o HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nend"
    bounds = sorted({min(cut, len(raw)) for cut in cuts} | {0, len(raw)})
    with socket.create_connection(("127.0.0.1", digesting_edge.server.port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start, end in itertools.pairwise(bounds):
            sock.sendall(raw[start:end])
            time.sleep(0.002)  # let the server read this piece on its own
        received = []
        while data := sock.recv(65536):
            received.append(data)
    answer = b"".join(received)
    expected = [hashlib.sha256(body).hexdigest().encode() for body in [*bodies, b"end"]]
    assert re.findall(rb"\r\n\r\n([0-9a-f]{64})", answer) == expected
    assert not digesting_edge.errors
