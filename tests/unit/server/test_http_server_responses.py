"""The HTTP edge writing responses: bytes, streams, chunked, FileBody, HEAD, handler failures."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator

import pytest

from kumoi.core.http import FileBody, HttpRequest, HttpResponse
from kumoi.server.http import HttpLimits

from .http_testkit import (
    at_eof,
    connect,
    get,
    get_cut_off,
    read_cut_response,
    read_response,
    request,
    run,
    serving,
)


class Stream:
    """An async iterable body that records whether it was closed."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.closed = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.fail_after is not None and index == self.fail_after:
                raise RuntimeError("storage broke")
            await asyncio.sleep(0)
            yield chunk

    async def aclose(self) -> None:
        self.closed += 1


@pytest.fixture
def data_file() -> Iterator[tuple[str, bytes]]:
    data = os.urandom(3 * (1 << 20) + 123)
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


def test_stream_with_content_length() -> None:
    stream = Stream([b"ab", b"", b"cde"])

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], stream, content_length=5)

    async def main() -> None:
        async with serving(handler) as server:
            response = await request(server.port, get())
        assert response.headers["content-length"] == "5"
        assert "transfer-encoding" not in response.headers
        assert response.body == b"abcde"
        assert stream.closed == 1

    run(main())


def test_stream_without_length_is_chunked_then_reusable() -> None:
    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [("ETag", '"x"')], Stream([b"a" * 100_000, b"b"]))

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            for _ in range(2):
                writer.write(get())
                response = await read_response(reader)
                assert response.headers["transfer-encoding"] == "chunked"
                assert response.headers["etag"] == '"x"'
                assert response.body == b"a" * 100_000 + b"b"
            writer.close()

    run(main())


def test_stream_without_length_to_http10_is_close_delimited() -> None:
    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], Stream([b"one", b"two"]))

    async def main() -> None:
        async with serving(handler) as server:
            response = await request(server.port, get(version="1.0", extra="Connection: keep-alive\r\n"))
        assert response.closes and "content-length" not in response.headers
        assert response.body == b"onetwo"

    run(main())


@pytest.mark.parametrize("chunk", [1 << 20, 64 * 1024])
def test_file_body_range_and_close_once(data_file: tuple[str, bytes], chunk: int) -> None:
    path, data = data_file
    closes: list[int] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(206, [], file_body(path, 1000, len(data) - 2000, closes))

    async def main() -> None:
        async with serving(handler, HttpLimits(file_chunk=chunk)) as server:
            reader, writer = await connect(server.port)
            for _ in range(2):
                writer.write(get())
                response = await read_response(reader)
                assert response.status == 206
                assert response.body == data[1000:-1000]
            writer.close()
        assert len(closes) == 2

    run(main())


def test_file_body_shorter_than_declared_aborts(data_file: tuple[str, bytes]) -> None:
    path, data = data_file
    closes: list[int] = []
    errors: list[BaseException] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], file_body(path, 0, len(data) + 10, closes))

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            await get_cut_off(server.port)
        assert len(closes) == 1
        assert isinstance(errors[0], EOFError)

    run(main())


def test_file_body_closed_when_client_disconnects(data_file: tuple[str, bytes]) -> None:
    path, _ = data_file
    closes: list[int] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], file_body(path, 0, 3 << 20, closes))

    async def main() -> None:
        async with serving(handler, HttpLimits(write_high_water=64 * 1024, file_chunk=64 * 1024)) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            await reader.readexactly(1000)
            writer.transport.abort()
            for _ in range(100):
                if closes:
                    break
                await asyncio.sleep(0.02)
        assert len(closes) == 1

    run(main())


def test_head_sends_length_without_body(data_file: tuple[str, bytes]) -> None:
    path, data = data_file
    closes: list[int] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        if req.path == "/file":
            return HttpResponse(200, [], file_body(path, 0, len(data), closes))
        if req.path == "/stream":
            return HttpResponse(200, [], Stream([b"abc"]), content_length=3)
        return HttpResponse(200, [], b"", content_length=12345)

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            for path, length in (("/file", len(data)), ("/stream", 3), ("/bytes", 12345)):
                writer.write(f"HEAD {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
                response = await read_response(reader, head=True)
                assert response.headers["content-length"] == str(length)
            writer.write(get("/bytes"))  # nothing stray was sent after the HEAD responses
            assert (await read_response(reader)).headers["content-length"] == "0"
            writer.close()
        assert len(closes) == 1

    run(main())


def test_handler_exception_gives_500_and_on_error() -> None:
    errors: list[BaseException] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        raise KeyError("bug")

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            response = await read_response(reader)
            assert response.status == 500
            assert b"<Code>InternalError</Code>" in response.body
            writer.write(get())  # a handler bug does not cost the connection
            assert (await read_response(reader)).status == 500
            writer.close()
        assert len(errors) == 2 and isinstance(errors[0], KeyError)

    run(main())


@pytest.mark.parametrize(
    "headers",
    [[("X-Bad", "a\r\nSet-Cookie: x")], [("X-Bad\n", "v")], [("X-Bad", "a\rb")]],
    ids=["crlf-value", "lf-name", "cr-value"],
)
def test_header_injection_is_refused(headers: list[tuple[str, str]]) -> None:
    errors: list[BaseException] = []
    stream = Stream([b"never"])

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, headers, stream, content_length=5)

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            response = await request(server.port, get())
        assert response.status == 500
        assert "set-cookie" not in response.headers
        assert len(errors) == 1 and stream.closed == 1

    run(main())


def test_failing_stream_after_head_aborts_connection() -> None:
    errors: list[BaseException] = []
    stream = Stream([b"a" * 10, b"b" * 10], fail_after=1)

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], stream)

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            await get_cut_off(server.port)
        assert isinstance(errors[0], RuntimeError) and stream.closed == 1

    run(main())


def test_stream_length_mismatch_aborts() -> None:
    errors: list[BaseException] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], Stream([b"abc"]), content_length=10)

    async def main() -> None:
        async with serving(handler, errors=errors) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            await read_cut_response(reader)
            assert await at_eof(reader)
            writer.close()
        assert len(errors) == 1

    run(main())


def test_handler_date_and_server_kept_and_framing_headers_replaced() -> None:
    async def handler(req: HttpRequest) -> HttpResponse:
        headers = [("Date", "x"), ("Server", "AmazonS3"), ("Content-Length", "999"), ("Connection", "x")]
        return HttpResponse(200, headers, b"abc")

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(get())
            raw = await reader.readuntil(b"\r\n\r\n")
            writer.close()
        assert raw.count(b"Date:") == 1 and b"Date: x\r\n" in raw
        assert b"Server: AmazonS3\r\n" in raw and b"kumoi" not in raw
        assert b"Content-Length: 3\r\n" in raw and b"999" not in raw
        assert b"Connection" not in raw

    run(main())


def test_write_backpressure_holds_stream() -> None:
    produced: list[int] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(64):
                produced.append(i)
                yield b"z" * (1 << 20)

        return HttpResponse(200, [], gen(), content_length=64 << 20)

    async def main() -> None:
        async with serving(handler, HttpLimits(write_high_water=256 * 1024)) as server:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # before connect: no autotuning
            sock.connect(("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
            writer.write(get())
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(0.3)  # the client does not read: the producer must stall
            assert len(produced) < 16
            total = 0
            while total < 64 << 20:
                total += len(await reader.read(1 << 20))
            writer.close()
        assert len(produced) == 64

    run(main())


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * (1 << 20)])
def test_in_memory_bodies_small_and_large_arrive_whole_and_in_order(size: int) -> None:
    """Small bodies go out joined to their head, large ones beside it: both whole, in order."""
    bodies = {f"/{n}": os.urandom(size) for n in range(3)}

    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], bodies[req.path])

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(b"".join(get(path) for path in bodies))
            answers = [await read_response(reader) for _ in bodies]
            writer.close()
        assert [answer.body for answer in answers] == list(bodies.values())
        assert all(answer.status == 200 for answer in answers)

    run(main())
