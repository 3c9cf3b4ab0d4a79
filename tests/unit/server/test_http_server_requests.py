"""The HTTP edge reading requests: framing, bodies, backpressure, 100-continue, keep-alive, limits."""

from __future__ import annotations

import asyncio
import hashlib
import http.client

import pytest

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.server.http import HttpLimits
from kumoi.server.http_body import RequestBody

from .http_testkit import at_eof, connect, get, ok, read_response, request, run, serving


async def echo_body(req: HttpRequest) -> HttpResponse:
    digest = hashlib.sha256()
    total = 0
    while chunk := await req.body.read(7_000):
        digest.update(chunk)
        total += len(chunk)
    info = f"{total} {digest.hexdigest()} {req.body.content_length}"
    return HttpResponse(200, [], info.encode())


def test_get_has_date_server_and_length() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            response = await request(server.port, get())
        assert response.status == 200
        assert response.reason == "OK"
        assert response.body == b"hello"
        assert response.headers["content-length"] == "5"
        assert response.headers["server"] == "kumoi"
        assert response.headers["date"].endswith(" GMT")

    run(main())


def test_path_query_and_headers_are_raw() -> None:
    seen: list[HttpRequest] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        seen.append(req)
        return HttpResponse(204)

    async def main() -> None:
        async with serving(handler) as server:
            raw = (
                b"GET /b%20k/a%2Fb?x=1&y=%3F?z HTTP/1.1\r\nHost: h\r\n"
                b"X-Amz-Meta-Cafe: v\xc3\xa9\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n"
            )
            response = await request(server.port, raw)
        assert response.status == 204
        assert "content-length" not in response.headers
        req = seen[0]
        assert (req.method, req.path, req.query_string) == ("GET", "/b%20k/a%2Fb", "x=1&y=%3F?z")
        assert req.headers.get("x-amz-meta-cafe") == "v\xc3\xa9"
        assert req.headers.get_all("x-dup") == ["1", "2"]
        assert req.remote_addr == "127.0.0.1"
        assert req.http_version == "1.1"

    run(main())


def test_content_length_body_streams_to_handler() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB

    async def main() -> None:
        async with serving(echo_body) as server:
            head = f"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            response = await request(server.port, head + data)
        assert response.body.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()} {len(data)}"

    run(main())


def test_chunked_body_is_dechunked() -> None:
    parts = [b"a" * 10, b"b" * 70_000, b"c"]
    wire = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"

    async def main() -> None:
        async with serving(echo_body) as server:
            head = b"PUT /o HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            response = await request(server.port, head + wire)
        whole = b"".join(parts)
        assert response.body.decode() == f"{len(whole)} {hashlib.sha256(whole).hexdigest()} None"

    run(main())


def test_read_backpressure_bounds_buffered_bytes() -> None:
    high_water = 64 * 1024
    peaks: list[int] = []

    async def slow(req: HttpRequest) -> HttpResponse:
        body = req.body
        assert isinstance(body, RequestBody)
        await asyncio.sleep(0.3)  # the client keeps sending; the edge must stop reading
        peaks.append(body.buffered)
        total = 0
        while chunk := await body.read(16 * 1024):
            total += len(chunk)
            peaks.append(body.buffered)
        return HttpResponse(200, [], str(total).encode())

    async def main() -> None:
        size = 16 << 20
        async with serving(slow, HttpLimits(read_high_water=high_water)) as server:
            reader, writer = await connect(server.port)
            writer.write(f"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: {size}\r\n\r\n".encode())
            block = b"x" * (1 << 20)
            for _ in range(16):
                writer.write(block)
                await writer.drain()
            response = await read_response(reader)
            writer.close()
        assert response.body == str(size).encode()
        # One socket read (up to 256 KiB in uvloop) may land after the mark is crossed.
        assert max(peaks) <= high_water + 256 * 1024

    run(main())


def test_client_disconnect_mid_body_raises_incomplete_body() -> None:
    outcome: list[BaseException] = []
    done = asyncio.Event()

    async def handler(req: HttpRequest) -> HttpResponse:
        try:
            while await req.body.read():
                pass
        except ServiceError as exc:
            outcome.append(exc)
        finally:
            done.set()
        return HttpResponse(400)

    async def main() -> None:
        async with serving(handler) as server:
            _, writer = await connect(server.port)
            writer.write(b"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()
            await asyncio.wait_for(done.wait(), 5)
        assert isinstance(outcome[0], ServiceError)
        assert (outcome[0].code, outcome[0].status) == ("IncompleteBody", 400)

    run(main())


def test_stalled_body_times_out() -> None:
    outcome: list[str] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        try:
            await req.body.read()
            await req.body.read()
        except ServiceError as exc:
            outcome.append(exc.code)
        return HttpResponse(400)

    async def main() -> None:
        async with serving(handler, HttpLimits(io_timeout=0.2)) as server:
            reader, writer = await connect(server.port)
            writer.write(b"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
            response = await read_response(reader)
            writer.close()
        assert outcome == ["RequestTimeout"]
        assert response.status == 400 and response.closes

    run(main())


def test_expect_continue_sent_on_first_read() -> None:
    async def main() -> None:
        async with serving(echo_body) as server:
            reader, writer = await connect(server.port)
            writer.write(b"PUT /o HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            interim = await read_response(reader)
            assert interim.status == 100
            writer.write(b"abcd")
            final = await read_response(reader)
            assert final.status == 200 and final.body.startswith(b"4 ")
            assert not final.closes
            writer.write(get())  # the connection is still usable
            assert (await read_response(reader)).status == 200
            writer.close()

    run(main())


def test_expect_continue_not_sent_once_the_client_sends_the_body() -> None:
    """A client that stopped waiting (botocore waits one second) sends the body anyway; an interim
    100 must not land in the middle of its body."""
    body_parts = [b"x" * 30_000, b"y" * 30_000]

    async def main() -> None:
        async with serving(echo_body) as server:
            reader, writer = await connect(server.port)
            writer.write(
                b"PUT /o HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 60000\r\n\r\n"
                + body_parts[0]
            )
            await writer.drain()
            await asyncio.sleep(0.1)  # the handler drains the first part and waits for more
            with pytest.raises(TimeoutError):  # nothing (no interim 100) while the body is arriving
                await asyncio.wait_for(reader.read(1), 0.2)
            writer.write(body_parts[1])
            response = await read_response(reader)
            if response.status == 100:  # owed, sent only once the whole body was in: just before the final
                response = await read_response(reader)
            assert response.status == 200 and response.body.startswith(b"60000 ")
            writer.close()

    run(main())


def test_expect_continue_with_an_empty_body_still_gets_the_interim_response() -> None:
    """botocore sends ``Expect: 100-continue`` even for an empty PutObject, and after a final status
    without the interim 100 it misparses the next response on that connection."""

    async def main() -> None:
        async with serving(echo_body) as server:
            reader, writer = await connect(server.port)
            writer.write(b"PUT /o HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
            interim = await read_response(reader)
            assert interim.status == 100
            final = await read_response(reader)
            assert final.status == 200 and not final.closes
            writer.close()

    run(main())


def test_expect_continue_not_sent_when_handler_rejects_early() -> None:
    async def deny(req: HttpRequest) -> HttpResponse:
        return HttpResponse(403, [], b"<Error><Code>AccessDenied</Code></Error>")

    async def main() -> None:
        async with serving(deny) as server:
            reader, writer = await connect(server.port)
            writer.write(
                b"PUT /o HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n"
            )
            response = await read_response(reader)
            assert response.status == 403  # not 100
            assert response.closes
            assert await at_eof(reader)
            writer.close()

    run(main())


def test_keep_alive_http11_and_close_variants() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            for _ in range(3):
                writer.write(get())
                response = await read_response(reader)
                assert response.status == 200 and not response.closes
            writer.write(get(extra="Connection: close\r\n"))
            assert (await read_response(reader)).closes
            assert await at_eof(reader)
            writer.close()

            reader, writer = await connect(server.port)
            writer.write(get(version="1.0"))
            assert (await read_response(reader)).closes
            assert await at_eof(reader)
            writer.close()

            reader, writer = await connect(server.port)
            writer.write(get(version="1.0", extra="Connection: keep-alive\r\n"))
            response = await read_response(reader)
            assert response.headers["connection"] == "keep-alive"
            writer.write(get())
            assert (await read_response(reader)).status == 200
            writer.close()

    run(main())


def test_pipelined_requests_answered_in_order() -> None:
    async def slow_first(req: HttpRequest) -> HttpResponse:
        body = await req.body.read()
        if req.path == "/1":
            await asyncio.sleep(0.05)
        return HttpResponse(200, [], req.path.encode() + b":" + body)

    async def main() -> None:
        async with serving(slow_first) as server:
            reader, writer = await connect(server.port)
            put = b"PUT /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            writer.write(get("/1") + put + get("/3") * 40)
            bodies = [(await read_response(reader)).body for _ in range(42)]
            writer.close()
        assert bodies == [b"/1:", b"/2:abc"] + [b"/3:"] * 40

    run(main())


def test_http_client_reuses_connection() -> None:
    async def main() -> None:
        async with serving(echo_body) as server:

            def client() -> list[int]:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                statuses = []
                for size in (0, 10, 100_000):
                    conn.request("PUT", "/o", body=b"z" * size)
                    response = conn.getresponse()
                    assert response.read().startswith(str(size).encode())
                    statuses.append(response.status)
                sock = conn.sock
                conn.request("GET", "/")
                conn.getresponse().read()
                assert conn.sock is sock  # same connection all along
                conn.close()
                return statuses

            assert await asyncio.to_thread(client) == [200, 200, 200]

    run(main())


def test_unread_small_body_is_drained_and_connection_kept() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(
                b"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: 50000\r\n\r\n" + b"x" * 50000 + get()
            )
            first = await read_response(reader)
            second = await read_response(reader)
            writer.close()
        assert (first.status, first.closes, second.status) == (200, False, 200)

    run(main())


def test_unread_large_body_closes_connection() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(b"PUT /o HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000)
            response = await read_response(reader)
            assert response.status == 200 and response.closes
            assert await at_eof(reader)
            writer.close()

    run(main())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (get("/" + "a" * 20_000), "RequestHeaderSectionTooLarge"),
        (get(extra="".join(f"X-H{i}: v\r\n" for i in range(250))), "RequestHeaderSectionTooLarge"),
        (get(extra=f"X-Big: {'v' * 70_000}\r\n"), "RequestHeaderSectionTooLarge"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n", "BadRequest"),
        (b"G\x01T / HTTP/1.1\r\n\r\n", "BadRequest"),
    ],
    ids=["request-line", "header-count", "header-bytes", "content-length", "method"],
)
def test_limits_and_malformed_requests(raw: bytes, code: str) -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(raw)
            response = await read_response(reader)
            assert await at_eof(reader)
            writer.close()
        assert response.status == 400 and response.closes
        assert f"<Code>{code}</Code>".encode() in response.body
        assert response.headers["content-type"] == "application/xml"

    run(main())


def test_error_after_pipelined_request_keeps_order() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(get() + b"BAD\x00 request\r\n\r\n")
            first = await read_response(reader)
            second = await read_response(reader)
            writer.close()
        assert (first.status, second.status) == (200, 400)
        assert b"BadRequest" in second.body

    run(main())


def test_malformed_chunked_body_fails_the_read_and_closes() -> None:
    codes: list[str] = []

    async def handler(req: HttpRequest) -> HttpResponse:
        try:
            while await req.body.read():
                pass
        except ServiceError as exc:
            codes.append(exc.code)
            return HttpResponse(exc.status, [], exc.code.encode())
        return HttpResponse(200)

    async def main() -> None:
        async with serving(handler) as server:
            reader, writer = await connect(server.port)
            writer.write(b"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
            response = await read_response(reader)
            assert await at_eof(reader)
            writer.close()
        assert codes == ["BadRequest"]
        assert response.status == 400 and response.closes

    run(main())


def test_upgrade_request_is_answered_as_http11_then_closed() -> None:
    async def main() -> None:
        async with serving(ok) as server:
            reader, writer = await connect(server.port)
            writer.write(
                get(extra="Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AA\r\n")
            )
            response = await read_response(reader)
            assert response.status == 200 and response.closes
            assert await at_eof(reader)
            writer.close()

    run(main())
