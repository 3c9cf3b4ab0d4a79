"""HTTP request and response messages as the server hands them to the layers above.

The HTTP edge (``kumoi.server.http``) builds an :class:`HttpRequest` per request with a streaming
body and writes the :class:`HttpResponse` it gets back. Header names are kept lower-cased; values
are decoded as latin-1, which maps every byte to one character and back, so signatures computed
over them match what the client put on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kumoi.core.streams import BodyStream, BytesBody

#: Header names as they come off the wire, decoded and lower-cased once (clients send the same
#: few names in every request). Bounded in number and length, since the names are the client's.
WIRE_NAME_CACHE_SIZE = 512
WIRE_NAME_MAX_LENGTH = 64
_WIRE_NAMES: dict[bytes, str] = {}


class Headers:
    """An ordered, case-insensitive multi-map of header fields (names stored lower-case)."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] = {}
        for name, value in items:
            self.add(name, value)

    @classmethod
    def from_wire(cls, fields: Iterable[tuple[bytes, bytes]]) -> Headers:
        """The headers of raw ``(name, value)`` fields as they came off the wire (latin-1)."""
        headers = cls()
        items, index = headers._items, headers._index
        names = _WIRE_NAMES
        for raw_name, raw_value in fields:
            name = names.get(raw_name)
            if name is None:
                name = raw_name.decode("latin-1").lower()
                if len(names) < WIRE_NAME_CACHE_SIZE and len(raw_name) <= WIRE_NAME_MAX_LENGTH:
                    names[raw_name] = name
            value = raw_value.decode("latin-1")
            items.append((name, value))
            values = index.get(name)
            if values is None:
                index[name] = [value]
            else:
                values.append(value)
        return headers

    def add(self, name: str, value: str) -> None:
        lowered = name.lower()
        self._items.append((lowered, value))
        self._index.setdefault(lowered, []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        # Callers mostly pass lower-case names: look those up before lower-casing.
        values = self._index.get(name) or self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._index.get(name) or self._index.get(name.lower()) or ())

    def count(self, name: str) -> int:
        return len(self._index.get(name) or self._index.get(name.lower()) or ())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._index or name.lower() in self._index)

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
    """One parsed HTTP request. ``path`` and ``query_string`` are raw, still percent-encoded.

    ``document`` is the whole body once a layer has read it to the end (SigV4 reads every
    non-S3 body to hash it); ``body`` then reads those bytes again from the start, and codecs
    take ``document`` instead of reading the same bytes a second time."""

    method: str
    path: str
    query_string: str
    headers: Headers
    body: BodyStream
    remote_addr: str = "127.0.0.1"
    scheme: str = "http"
    http_version: str = "1.1"
    document: bytes | None = None

    def set_document(self, data: bytes) -> None:
        """The body has been read whole: keep it as ``document`` and as a fresh ``body``."""
        self.document = data
        self.body = BytesBody(data)

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


#: Reads one key of a bucket as an anonymous caller: (method, bucket, key, request headers) to
#: the response (S3's website endpoints read objects this way through the server's pipeline).
AnonymousRead = Callable[[str, str, str, list[tuple[str, str]]], Awaitable["HttpResponse"]]
