"""POSTing a message to an HTTP/HTTPS endpoint, with a circuit breaker per endpoint.

A minimal HTTP/1.1 client on asyncio streams (one connection per delivery, ``Connection:
close``): SNS deliveries are independent, and endpoints are typically few. A delivery succeeds
when the endpoint answers 2xx within :data:`RESPONSE_TIMEOUT_SECONDS`, as AWS requires.

The :class:`CircuitBreaker` keeps a dead endpoint from costing a connection attempt (and a
timeout) for every message: after :data:`FAILURES_TO_OPEN` consecutive failures it opens for
:data:`OPEN_SECONDS`, during which deliveries to that endpoint fail at once (their retries are
scheduled as usual); then one attempt is let through, and its outcome closes or re-opens it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("kumoi.sns")

#: AWS gives an endpoint 15 seconds to answer.
RESPONSE_TIMEOUT_SECONDS = 15.0
#: Consecutive failures that open an endpoint's circuit.
FAILURES_TO_OPEN = 5
#: How long an open circuit refuses deliveries before letting one through.
OPEN_SECONDS = 5.0
#: Longest status line or header line read from an endpoint.
MAX_LINE = 8192
#: Most header lines read from an endpoint.
MAX_HEADERS = 100


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    open_until: float = 0.0


class CircuitBreaker:
    def __init__(self) -> None:
        self._circuits: dict[str, _Circuit] = {}

    def allows(self, endpoint: str) -> bool:
        circuit = self._circuits.get(endpoint)
        if circuit is None or circuit.failures < FAILURES_TO_OPEN:
            return True
        now = time.monotonic()
        if now < circuit.open_until:
            return False
        circuit.open_until = now + OPEN_SECONDS
        return True

    def record(self, endpoint: str, ok: bool) -> None:
        if ok:
            self._circuits.pop(endpoint, None)
            return
        circuit = self._circuits.setdefault(endpoint, _Circuit())
        circuit.failures += 1
        if circuit.failures >= FAILURES_TO_OPEN:
            circuit.open_until = time.monotonic() + OPEN_SECONDS


def endpoint_key(url: str) -> str:
    """What a circuit is kept for: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def post(url: str, body: bytes, headers: Sequence[tuple[str, str]]) -> int:
    """POST ``body`` to ``url``; return the response status. Raises ``OSError``, ``ValueError``
    or ``TimeoutError`` when the endpoint cannot be reached or answers garbage."""
    async with asyncio.timeout(RESPONSE_TIMEOUT_SECONDS):
        return await _post(url, body, headers)


async def _post(url: str, body: bytes, headers: Sequence[tuple[str, str]]) -> int:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP URL: {url}")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context, limit=MAX_LINE)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rsplit("@", 1)[-1]
        lines = [
            f"POST {target} HTTP/1.1",
            f"Host: {host}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        lines += [f"{name}: {value}" for name, value in headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await reader.readline()
        fields = status_line.split(b" ", 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/"):
            raise ValueError(f"bad status line from {url}: {status_line[:100]!r}")
        status = int(fields[1])
        for _ in range(MAX_HEADERS):
            if (await reader.readline()) in (b"\r\n", b"\n", b""):
                break
        return status
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
