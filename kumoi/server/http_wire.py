"""Bytes the HTTP edge puts on the wire: status lines, response heads and its own error answers.

Everything that can be computed once is: the status line of every registered status code, the
``Server`` header, the few complete error responses the edge sends by itself, and the ``Date``
value, which changes once a second and is cached until then. A response head is built as one
``str`` and encoded once (latin-1, the inverse of how request headers are decoded), so that the
head and a small body go out in one ``transport.write``.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from http import HTTPStatus

SERVER_HEADER = "kumoi"

# Statuses whose responses never carry a body (RFC 9110 §6.4.1); 1xx never reach this module.
BODILESS_STATUSES = frozenset({204, 304})

# Header names the edge owns: it frames the message itself and drops the handler's copies.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})

_STATUS_LINES: dict[int, str] = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n" for status in HTTPStatus
}

CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"
CHUNKED_END = b"0\r\n\r\n"
CRLF = b"\r\n"


class HeaderInjection(ValueError):
    """A response header name or value contains CR or LF: a bug in the handler, never sent."""


def status_line(status: int) -> str:
    line = _STATUS_LINES.get(status)
    if line is None:
        if not 100 <= status <= 999:
            raise ValueError(f"invalid HTTP status {status}")
        line = f"HTTP/1.1 {status} Unknown\r\n"
    return line


class _DateCache:
    """The IMF-fixdate of the current second, recomputed at most once a second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._value = formatdate(second, usegmt=True)
        return self._value


http_date = _DateCache().now


def response_head(
    status: int,
    headers: list[tuple[str, str]],
    *,
    content_length: int | None,
    chunked: bool,
    close: bool,
    keep_alive_10: bool = False,
) -> bytes:
    """Encode the status line and header section, adding what the handler did not give.

    ``content_length`` ``None`` with ``chunked`` false means the body is delimited by closing the
    connection (HTTP/1.0 clients and streamed bodies of unknown length), or that there is none.
    """
    lines = [status_line(status)]
    has_date = has_server = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in FRAMING_HEADERS:
            continue
        if lowered == "date":
            has_date = True
        elif lowered == "server":
            has_server = True
        lines.append(f"{name}: {value}\r\n")
    injected_lines = len(lines)
    if not has_date:
        lines.append(f"Date: {http_date()}\r\n")
    if not has_server:
        lines.append(f"Server: {SERVER_HEADER}\r\n")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}\r\n")
    elif chunked:
        lines.append("Transfer-Encoding: chunked\r\n")
    if close:
        lines.append("Connection: close\r\n")
    elif keep_alive_10:
        lines.append("Connection: keep-alive\r\n")
    lines.append("\r\n")
    head = "".join(lines)
    # Every line ends in exactly one CRLF; any other CR or LF came from a handler's name or value.
    if head.count("\n") != len(lines) or head.count("\r") != len(lines):
        raise HeaderInjection(f"CR or LF in one of {injected_lines - 1} response headers")
    return head.encode("latin-1")


def error_response(status: int, code: str, message: str) -> bytes:
    """A complete S3-style XML error response that closes the connection."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    head = response_head(
        status,
        [("Content-Type", "application/xml")],
        content_length=len(body),
        chunked=False,
        close=True,
    )
    return head + body
