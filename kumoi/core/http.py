"""HTTP request and response messages as the server hands them to the layers above.

The HTTP edge (``kumoi.server.http``) builds an :class:`HttpRequest` per request with a streaming
body and writes the :class:`HttpResponse` it gets back. Header names are kept lower-cased; values
are decoded as latin-1, which maps every byte to one character and back, so signatures computed
over them match what the client put on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kumoi.core.streams import BodyStream


class Headers:
    """An ordered, case-insensitive multi-map of header fields (names stored lower-case)."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] = {}
        for name, value in items:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        lowered = name.lower()
        self._items.append((lowered, value))
        self._index.setdefault(lowered, []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        values = self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._index.get(name.lower(), ()))

    def count(self, name: str) -> int:
        return len(self._index.get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def items(self) -> list[tuple[str, str]]:
        """All fields in arrival order, names lower-cased."""
        return list(self._items)

    def names(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(slots=True)
class HttpRequest:
    """One parsed HTTP request. ``path`` and ``query_string`` are raw, still percent-encoded."""

    method: str
    path: str
    query_string: str
    headers: Headers
    body: BodyStream
    remote_addr: str = "127.0.0.1"
    scheme: str = "http"
    http_version: str = "1.1"

    @property
    def host(self) -> str:
        return self.headers.get("host") or ""


@dataclass(slots=True)
class FileBody:
    """A response body served from an open file: the edge may use sendfile or large reads.

    ``close`` is called exactly once when the response is done (sent, failed or abandoned).
    """

    fd: int
    offset: int
    length: int
    close: Callable[[], None]


ResponseBody = bytes | AsyncIterable[bytes] | FileBody


@dataclass(slots=True)
class HttpResponse:
    """A response to send. ``content_length`` is required for streamed bodies unless chunked
    transfer encoding is wanted (``None``)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: ResponseBody = b""
    content_length: int | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
