"""A streaming ``multipart/form-data`` reader for browser POST uploads.

The form's text fields come first and are small: they are read into a dict (at most
:data:`MAX_FIELDS_BYTES` in all). The ``file`` field's content is not read here: the reader stops
at its headers and hands out an async iterator of its bytes, which ends at the closing boundary,
so an upload streams to the blob store in chunks. Fields after the file are ignored, as S3 does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import Message

from kumoi.core.errors import ServiceError
from kumoi.core.streams import DEFAULT_CHUNK, BodyStream

#: All text fields before the file, in bytes.
MAX_FIELDS_BYTES = 1024 * 1024
#: One part's header block.
MAX_PART_HEADERS = 16 * 1024
_CRLF = b"\r\n"
_HEADERS_END = b"\r\n\r\n"


def malformed() -> ServiceError:
    return ServiceError(
        "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", 400
    )


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` content type, or a ``MalformedPOSTRequest``."""
    if content_type is None:
        raise malformed()
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if message.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise malformed()
    return boundary.encode("latin-1")


@dataclass(frozen=True, slots=True)
class FilePart:
    filename: str
    content_type: str | None


class FormReader:
    """Reads one form: :meth:`read_fields`, then (if there is a file) :meth:`file_chunks`."""

    def __init__(self, body: BodyStream, boundary: bytes) -> None:
        self._body = body
        self._delimiter = _CRLF + b"--" + boundary
        # The first boundary has no CRLF before it; pretend it had, so every part looks alike.
        self._buffer = bytearray(_CRLF)
        self._eof = False

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._body.read(DEFAULT_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def _until(self, marker: bytes, limit: int) -> bytes:
        """The bytes before ``marker`` (which is consumed too), at most ``limit`` of them."""
        start = 0
        while True:
            index = self._buffer.find(marker, start)
            if index >= 0:
                data = bytes(self._buffer[:index])
                del self._buffer[: index + len(marker)]
                return data
            if len(self._buffer) > limit + len(marker):
                raise ServiceError(
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceeding the upload file was too large.",
                    400,
                )
            start = max(0, len(self._buffer) - len(marker) + 1)
            if not await self._fill():
                raise malformed()

    async def _part_headers(self) -> dict[str, str] | None:
        """After a delimiter: the next part's headers, or None at the closing delimiter."""
        while len(self._buffer) < 2:
            if not await self._fill():
                raise malformed()
        if self._buffer.startswith(b"--"):
            return None
        block = await self._until(_HEADERS_END, MAX_PART_HEADERS)
        headers: dict[str, str] = {}
        for line in block.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        return headers

    async def read_fields(self) -> tuple[dict[str, str], FilePart | None]:
        """The text fields (names as sent) and the file part, if the form has one."""
        await self._until(self._delimiter, MAX_PART_HEADERS)
        fields: dict[str, str] = {}
        used = 0
        while True:
            headers = await self._part_headers()
            if headers is None:
                return fields, None
            message = Message()
            message["content-disposition"] = headers.get("content-disposition", "")
            name = message.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                raise malformed()
            if name.lower() == "file":
                filename = message.get_param("filename", header="content-disposition")
                return fields, FilePart(
                    filename if isinstance(filename, str) else "", headers.get("content-type")
                )
            value = await self._until(self._delimiter, MAX_FIELDS_BYTES - used)
            used += len(value)
            fields[name] = value.decode("utf-8", "replace")

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, up to the next boundary."""
        keep = len(self._delimiter) - 1
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                if index:
                    yield bytes(self._buffer[:index])
                del self._buffer[: index + len(self._delimiter)]
                return
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                yield bytes(self._buffer[:cut])
                del self._buffer[:cut]
            if not await self._fill():
                raise malformed()
