"""The HTTP/1.1 edge: an ``asyncio.Protocol`` driving the httptools (llhttp) parser, on any loop.

Chosen by measurement (``bench/http_layers/README.md``): a bare protocol on httptools spends
half the CPU per request of aiohttp's low-level server, uvicorn or granian, and this full edge
still spends less than any of them.

One :class:`_Connection` per socket. Parser callbacks build an :class:`HttpRequest` as soon as the
header section is complete and queue it; one task per connection answers the queue in order
(pipelining), calling the handler and writing its response, and ends when the queue is empty, so
an idle keep-alive connection costs no task. Request bodies stream through
:class:`~kumoi.server.http_body.RequestBody` with read backpressure; responses honour write
backpressure (``pause_writing``/``resume_writing``) for every streamed body.

After a response the connection stays open only if the request's body was fully read or the rest
is small enough to drain; otherwise it half-closes and discards what the client still sends for a
moment ("lingering close"), so the client reads our response instead of a reset.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httptools

from kumoi.core.errors import ServiceError
from kumoi.core.http import FileBody, Headers, HttpRequest, HttpResponse
from kumoi.core.streams import ReaderBody
from kumoi.server import http_sendfile
from kumoi.server.http_body import RequestBody, incomplete_body, malformed_body
from kumoi.server.http_wire import (
    BODILESS_STATUSES,
    CHUNKED_END,
    CONTINUE_100,
    CRLF,
    error_response,
    response_head,
)

Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]
ErrorCallback = Callable[[BaseException], None]

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024
# After the shutdown grace period: how long cancelled handlers get to unwind.
CANCEL_WAIT = 1.0

_HEADER_TOO_LARGE = error_response(
    400, "RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size."
)
_BAD_REQUEST = error_response(400, "BadRequest", "The HTTP request is malformed.")
#: A Content-Length body with at least this much still to come after a read bypasses the parser.
RAW_BODY_MIN = 64 * 1024
#: An in-memory body up to this size goes out joined to its head (one buffer, one send); a larger
#: one beside it, not copied.
_JOIN_LIMIT = 64 * 1024
#: The request methods clients use, decoded once.
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")}
_INTERNAL_ERROR_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>InternalError</Code>"
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Limits and timeouts of the HTTP edge (bytes and seconds)."""

    max_header_bytes: int = 64 * 1024
    max_headers: int = 200
    max_request_line: int = 16 * 1024
    keep_alive_timeout: float = 75.0
    # Request body bytes buffered per connection before the socket stops being read.
    read_high_water: int = 1 << 20
    # Response bytes queued in the transport before streamed bodies wait for the client.
    write_high_water: int = 1 << 20
    # A body read or a response write that makes no progress for this long fails.
    io_timeout: float = 60.0
    # Requests parsed ahead of the one being answered before the socket stops being read.
    max_pipelined: int = 32
    # Unread request body bytes the edge reads and drops to keep a connection open.
    drain_limit: int = 64 * 1024
    # How long a closing connection keeps discarding what the client still sends.
    linger_timeout: float = 2.0
    # Read size for FileBody responses.
    file_chunk: int = 1 << 20


class _Disconnected(Exception):
    """The client went away (or stopped reading) while a response was being written."""


@dataclass(slots=True)
class _Exchange:
    """A parsed request waiting for (or getting) its response."""

    request: HttpRequest
    body: RequestBody
    keep_alive: bool


class _Connection(asyncio.Protocol):
    """One client connection: parser callbacks, the response task, flow control."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._limits = server.limits
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._remote = ""
        self._url: list[bytes] = []
        self._url_bytes = 0
        self._fields: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._parsing: RequestBody | None = None
        #: Bytes of the ``_parsing`` body still to come past the parser (see :meth:`_feed_raw`).
        self._raw_left = 0
        self._queue: deque[_Exchange | bytes] = deque()
        self._task: asyncio.Task[None] | None = None
        self._too_large = False
        self._stopped = False  # no more requests are parsed on this connection
        self._closing = False  # close after the response in progress
        self._closed = False
        self._body_paused = False
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_since = 0.0

    # -- transport events -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are duck-typed, not asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.set_write_buffer_limits(high=self._limits.write_high_water)
        # No TCP_NODELAY here: asyncio's and uvloop's TCP transports set it on every connection.
        peer = transport.get_extra_info("peername")
        self._remote = peer[0] if isinstance(peer, tuple) else ""
        self._server.connection_opened(self)
        self._arm_idle_timer()

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            return
        if self._raw_left:
            data = self._feed_raw(data)
            if not data:
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # We never switch protocols: the request is answered as HTTP/1.1, then we close.
            self._stop_parsing()
        except httptools.HttpParserError:
            self._reject(_HEADER_TOO_LARGE if self._too_large else _BAD_REQUEST)
        else:
            body = self._parsing
            if body is not None and body.content_length is not None:
                left = body.content_length - body.received
                if left >= RAW_BODY_MIN:
                    self._raw_left = left

    def _feed_raw(self, data: bytes) -> bytes:
        """Feed the rest of a large Content-Length body straight to it; return what follows it.

        The parser would copy every body byte into a new ``bytes`` per callback (1 GiB of upload,
        1 GiB of ``memcpy``); the bytes the socket gave are handed on as they are instead. The
        parser, left expecting body bytes, is replaced by a fresh one at the body's end.
        """
        body = self._parsing
        assert body is not None
        left = self._raw_left
        if len(data) <= left:
            body.feed(data)
            self._raw_left = left - len(data)
            rest = b""
        else:
            body.feed(data[:left])
            self._raw_left = 0
            rest = data[left:]
        if not self._raw_left:
            self._parser = httptools.HttpRequestParser(self)
            self.on_message_complete()
        return rest

    def eof_received(self) -> bool:
        # The client has finished sending; answer what is queued, then close (half-open until then).
        if self._parsing is not None:
            self._parsing.fail(incomplete_body())
        self._stop_parsing()
        if self._task is None:
            self._close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._stopped = True
        if self._parsing is not None:
            self._parsing.fail(incomplete_body())
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(_Disconnected())
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._server.connection_closed(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # -- parser callbacks -------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = []
        self._url_bytes = 0
        self._fields = []
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self._limits.max_request_line:
            self._too_large = True
            raise ValueError("request line too long")
        self._url.append(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        fields = self._fields
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._limits.max_header_bytes or len(fields) >= self._limits.max_headers:
            self._too_large = True
            raise ValueError("header section too large")
        fields.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        headers = Headers.from_wire(self._fields)
        version = parser.get_http_version()
        url = (self._url[0] if len(self._url) == 1 else b"".join(self._url)).decode("latin-1")
        path, _, query = url.partition("?")
        length_value = headers.get("content-length")
        content_length = int(length_value) if length_value is not None else None
        chunked = content_length is None and "transfer-encoding" in headers
        expect = headers.get("expect")
        body = RequestBody(
            self,
            content_length,
            complete=not chunked and not content_length,
            expect_continue=expect is not None and expect.lower() == "100-continue" and version == "1.1",
            high_water=self._limits.read_high_water,
            timeout=self._limits.io_timeout,
        )
        self._parsing = body
        raw_method = parser.get_method()
        request = HttpRequest(
            method=_METHODS.get(raw_method) or raw_method.decode("ascii"),
            path=path,
            query_string=query,
            headers=headers,
            body=body,
            remote_addr=self._remote,
            scheme=self._server.scheme,
            http_version=version,
        )
        self._enqueue(_Exchange(request, body, parser.should_keep_alive() and not parser.should_upgrade()))

    def on_body(self, data: bytes) -> None:
        if self._parsing is not None:
            self._parsing.feed(data)

    def on_message_complete(self) -> None:
        if self._parsing is not None:
            self._parsing.finish()
            self._parsing = None

    # -- BodyOwner --------------------------------------------------------------------------------

    def body_paused(self, body: RequestBody) -> None:
        self._body_paused = True
        self._update_reading()

    def body_drained(self, body: RequestBody) -> None:
        self._body_paused = False
        self._update_reading()

    def send_continue(self) -> None:
        self._write(CONTINUE_100)

    # -- flow control -----------------------------------------------------------------------------

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        pause = self._body_paused or len(self._queue) >= self._limits.max_pipelined
        if pause and not self._reading_paused:
            self._reading_paused = True
            transport.pause_reading()
        elif not pause and self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()

    def _write(self, data: bytes) -> None:
        if not self._closed and self._transport is not None:
            self._transport.write(data)

    def _write_parts(self, parts: list[bytes]) -> None:
        """Several buffers in one system call, without copying them together."""
        if not self._closed and self._transport is not None:
            self._transport.writelines(parts)

    async def _drain(self) -> None:
        if self._closed:
            raise _Disconnected()
        if not self._write_paused:
            return
        waiter = self._drain_waiter = self._loop.create_future()
        timer = self._loop.call_later(self._limits.io_timeout, self._write_timeout, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._drain_waiter = None

    def _write_timeout(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(_Disconnected())
            self._abort_transport()

    # -- request queue ----------------------------------------------------------------------------

    def _enqueue(self, item: _Exchange | bytes) -> None:
        if self._task is None:
            self._task = self._loop.create_task(self._serve(item))
        else:
            self._queue.append(item)
            if len(self._queue) >= self._limits.max_pipelined:
                self._update_reading()

    def _reject(self, response: bytes) -> None:
        if self._parsing is not None:
            self._parsing.fail(malformed_body())
            self._parsing = None
        self._stop_parsing()
        self._enqueue(response)

    def _stop_parsing(self) -> None:
        self._stopped = True
        if self._transport is not None and not self._reading_paused and not self._closed:
            self._reading_paused = True
            self._transport.pause_reading()

    async def _serve(self, item: _Exchange | bytes) -> None:
        """Answer queued requests in order until the queue is empty or the connection must close."""
        try:
            while True:
                if isinstance(item, bytes):
                    self._write(item)
                    self._close()
                    return
                if self._closed or not await self._exchange(item):
                    return
                if self._write_paused:
                    # A client that pipelines without reading must not grow our write buffer.
                    try:
                        await self._drain()
                    except _Disconnected:
                        return
                if not self._queue:
                    break
                item = self._queue.popleft()
                if self._reading_paused and not self._stopped:
                    self._update_reading()
        finally:
            self._task = None
        if self._closing or self._stopped:
            self._close()
        else:
            self._arm_idle_timer()

    async def _exchange(self, exchange: _Exchange) -> bool:
        """Call the handler and send its response; return whether the connection stays open."""
        request, body = exchange.request, exchange.body
        try:
            response = await self._server.handler(request)
        except Exception as exc:
            self._server.report(exc)
            response = _internal_error()
        close = not exchange.keep_alive or self._closing
        drain = False
        if not body.consumed:
            body.discard_buffered()
            if not body.complete:
                remaining = None if body.content_length is None else body.content_length - body.received
                drain = (
                    remaining is not None
                    and remaining <= self._limits.drain_limit
                    and not body.continue_pending
                    and not body.failed
                    and not close
                )
                close = not drain
        if body.continue_owed:
            self._write(CONTINUE_100)
        try:
            if isinstance(response.body, bytes):  # most responses: no need to wait for anything
                close = self._send_bytes(request, response, response.body, close)
            else:
                close = await self._send(request, response, close)
            if drain:
                while await body.read(self._limits.drain_limit):
                    pass
        except (_Disconnected, ServiceError):
            self._abort_transport()
            return False
        except Exception as exc:
            self._server.report(exc)
            self._abort_transport()
            return False
        if close:
            self._close(linger=not body.complete)
            return False
        return True

    # -- responses --------------------------------------------------------------------------------

    def _send_bytes(self, request: HttpRequest, response: HttpResponse, payload: bytes, close: bool) -> bool:
        """Write a response whose body is in memory; return whether the connection must close."""
        head_only = request.method == "HEAD" or response.status in BODILESS_STATUSES
        legacy = request.http_version == "1.0"
        length = len(payload)
        if head_only and not payload and response.content_length is not None:
            length = response.content_length
        try:
            head = self._head(response, length, False, close, legacy)
        except _HandlerBug as exc:
            self._send_internal_error(exc, close, legacy)
            return close
        if head_only:
            self._write(head)
        elif length > _JOIN_LIMIT:
            self._write_parts([head, payload])
        else:
            self._write(head + payload)
        return close

    def _send_internal_error(self, bug: _HandlerBug, close: bool, legacy: bool) -> None:
        """Answer 500 for a response that cannot be sent, before any of it was."""
        self._server.report(bug.__cause__ or bug)
        self._write(self._head(_internal_error(), len(_INTERNAL_ERROR_BODY), False, close, legacy))
        self._write(_INTERNAL_ERROR_BODY)

    async def _send(self, request: HttpRequest, response: HttpResponse, close: bool) -> bool:
        """Write ``response``; return whether the connection must close afterwards."""
        payload = response.body
        if isinstance(payload, bytes):
            return self._send_bytes(request, response, payload, close)
        head_only = request.method == "HEAD" or response.status in BODILESS_STATUSES
        legacy = request.http_version == "1.0"
        try:
            if isinstance(payload, FileBody):
                self._write(self._head(response, payload.length, False, close, legacy))
                if not head_only:
                    await self._send_file(payload)
            else:
                declared = response.content_length
                chunked = declared is None and not head_only and request.http_version == "1.1"
                close = close or (declared is None and not head_only and not chunked)
                self._write(self._head(response, declared, chunked, close, legacy))
                if not head_only:
                    await self._send_stream(payload, declared, chunked)
        except _HandlerBug as exc:
            if exc.head_sent:
                self._server.report(exc.__cause__ or exc)
                raise _Disconnected() from exc
            self._send_internal_error(exc, close, legacy)
        finally:
            await self._release(payload)
        return close

    async def _release(self, payload: object) -> None:
        """Give back a response body's resources: ``FileBody.close`` or the iterator's ``aclose``."""
        try:
            if isinstance(payload, FileBody):
                payload.close()
                return
            aclose = getattr(payload, "aclose", None)
            if aclose is not None:
                await aclose()
        except Exception as exc:
            self._server.report(exc)

    def _head(
        self, response: HttpResponse, length: int | None, chunked: bool, close: bool, legacy: bool
    ) -> bytes:
        """The response head; ``legacy`` (HTTP/1.0) keep-alive must be confirmed explicitly."""
        status = response.status
        try:
            return response_head(
                status,
                response.headers,
                content_length=None if status in BODILESS_STATUSES else length,
                chunked=chunked,
                close=close,
                keep_alive_10=legacy and not close,
            )
        except ValueError as exc:
            raise _HandlerBug(head_sent=False) from exc

    async def _send_stream(self, payload: AsyncIterable[bytes], length: int | None, chunked: bool) -> None:
        if isinstance(payload, ReaderBody) and length == payload.length:
            sock_fd = http_sendfile.socket_fd(None if self._closed else self._transport)
            if sock_fd is not None:
                await self._send_reader(sock_fd, payload)
                return
        sent = 0
        iterator = aiter(payload)
        while True:
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise _HandlerBug(head_sent=True) from exc
            if not chunk:
                continue
            sent += len(chunk)
            if chunked:
                self._write_parts([b"%x\r\n" % len(chunk), chunk, CRLF])
            else:
                self._write(chunk)
            await self._drain()
        if chunked:
            self._write(CHUNKED_END)
        elif length is not None and sent != length:
            raise _HandlerBug(head_sent=True) from ValueError(
                f"streamed body of {sent} bytes, Content-Length {length}"
            )

    async def _send_reader(self, sock_fd: int, payload: ReaderBody) -> None:
        """Send a reader body from worker threads straight to the socket (see http_sendfile)."""
        try:
            await http_sendfile.send_reader(sock_fd, payload, payload.length, self._limits.io_timeout)
        except http_sendfile.ClientGone as exc:
            self._abort_transport()
            raise _Disconnected() from exc
        except Exception as exc:
            raise _HandlerBug(head_sent=True) from exc

    async def _send_file(self, payload: FileBody) -> None:
        """Stream a file with positioned reads in a worker thread, one chunk read ahead (or, on a
        plain TCP socket, with ``sendfile``: see :mod:`kumoi.server.http_sendfile`)."""
        sock_fd = http_sendfile.socket_fd(None if self._closed else self._transport)
        if sock_fd is not None:
            try:
                await http_sendfile.send_file(
                    sock_fd, payload.fd, payload.offset, payload.length, self._limits.io_timeout
                )
            except http_sendfile.ClientGone as exc:
                self._abort_transport()
                raise _Disconnected() from exc
            except (OSError, EOFError) as exc:
                raise _HandlerBug(head_sent=True) from exc
            return
        offset, end = payload.offset, payload.offset + payload.length
        chunk = self._limits.file_chunk
        ahead: asyncio.Future[bytes] | None = None
        try:
            if offset < end:
                ahead = self._loop.run_in_executor(
                    None, os.pread, payload.fd, min(chunk, end - offset), offset
                )
            while ahead is not None:
                try:
                    data = await ahead
                except OSError as exc:
                    raise _HandlerBug(head_sent=True) from exc
                ahead = None
                if not data:
                    raise _HandlerBug(head_sent=True) from EOFError("file shorter than FileBody.length")
                offset += len(data)
                if offset < end:
                    ahead = self._loop.run_in_executor(
                        None, os.pread, payload.fd, min(chunk, end - offset), offset
                    )
                self._write(data)
                await self._drain()
        finally:
            if ahead is not None:
                # Never let close() run while a worker still reads the descriptor.
                await asyncio.wait([ahead])
                if not ahead.cancelled():
                    ahead.exception()  # retrieved: the response has already failed

    # -- closing ----------------------------------------------------------------------------------

    def _arm_idle_timer(self) -> None:
        """Note that the connection is idle from now; a request's headers must arrive in time.

        One timer per connection, not one per request: when it fires early (the connection was
        busy in between) it is set again for the rest of the idle period.
        """
        self._idle_since = self._loop.time()
        if self._idle_timer is None and not self._closed:
            self._idle_timer = self._loop.call_at(
                self._idle_since + self._limits.keep_alive_timeout, self._idle_timeout
            )

    def _idle_timeout(self) -> None:
        self._idle_timer = None
        if self._task is not None:
            self._arm_idle_timer()
            return
        deadline = self._idle_since + self._limits.keep_alive_timeout
        if self._loop.time() >= deadline:
            self._close()
        else:
            self._idle_timer = self._loop.call_at(deadline, self._idle_timeout)

    def _close(self, linger: bool = False) -> None:
        """Close after the queued writes; with ``linger``, first half-close and drop input a while."""
        transport = self._transport
        if transport is None or self._closed or transport.is_closing():
            return
        self._stop_parsing()
        if linger and transport.can_write_eof():
            transport.write_eof()
            self._reading_paused = False
            transport.resume_reading()
            self._loop.call_later(self._limits.linger_timeout, transport.close)
        else:
            transport.close()

    def shutdown(self) -> None:
        """Server shutdown: finish the response in progress, then close; close now if idle."""
        self._closing = True
        if self._task is None:
            self._close()

    def abort(self) -> asyncio.Task[None] | None:
        """Server shutdown after the grace period: drop the connection, cancel its handler task."""
        self._abort_transport()
        task = self._task
        if task is not None:
            task.cancel()
        return task

    def _abort_transport(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class _HandlerBug(Exception):
    """The response the handler gave cannot be sent (bad header, failing body stream, short file)."""

    def __init__(self, *, head_sent: bool) -> None:
        super().__init__("response cannot be sent")
        self.head_sent = head_sent


def _internal_error() -> HttpResponse:
    return HttpResponse(500, [("Content-Type", "application/xml")], _INTERNAL_ERROR_BODY)


class HttpServer:
    """An HTTP/1.1 server calling ``handler`` for every request, on the running event loop."""

    def __init__(
        self, handler: Handler, limits: HttpLimits = HttpLimits(), *, on_error: ErrorCallback | None = None
    ) -> None:
        self.handler = handler
        self.limits = limits
        self._on_error = on_error
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._all_closed: asyncio.Event | None = None
        self.scheme = "http"

    async def start(
        self, host: str, port: int, *, sock: socket.socket | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        """Listen on ``host:port`` (or ``sock``); with ``tls``, speak HTTPS."""
        loop = asyncio.get_running_loop()
        self.scheme = "https" if tls is not None else "http"
        if sock is not None:
            self._server = await loop.create_server(
                lambda: _Connection(self), sock=sock, backlog=LISTEN_BACKLOG, ssl=tls
            )
        else:
            self._server = await loop.create_server(
                lambda: _Connection(self), host, port, backlog=LISTEN_BACKLOG, reuse_address=True, ssl=tls
            )

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop accepting, let responses in progress finish (up to ``grace`` s), then close all."""
        if self._server is not None:
            self._server.close()
        self._all_closed = asyncio.Event()
        for connection in list(self._connections):
            connection.shutdown()
        if self._connections:
            try:
                await asyncio.wait_for(self._all_closed.wait(), grace)
            except TimeoutError:
                tasks = [task for conn in list(self._connections) if (task := conn.abort()) is not None]
                if tasks:
                    await asyncio.wait(tasks, timeout=CANCEL_WAIT)
        if self._server is not None:
            await self._server.wait_closed()

    def connection_opened(self, connection: _Connection) -> None:
        self._connections.add(connection)

    def connection_closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if not self._connections and self._all_closed is not None:
            self._all_closed.set()

    def report(self, exc: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("unhandled error in HTTP handler", exc_info=exc)
