"""What every blob store provides.

A blob is an immutable byte string with an opaque id. Writing streams into a staging file while
hashing, then ``commit`` makes it durable (fsync file, rename into place, fsync directory) and
returns its digests. Blob ids never derive from object keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kumoi.core.checksums import ALGORITHMS
from kumoi.core.http import FileBody
from kumoi.core.streams import BodyStream, PayloadCheck

#: Checksum algorithms a writer can compute while streaming, by S3's names (lower-case).
CHECKSUM_ALGORITHMS = ALGORITHMS


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A committed blob: its id, size, MD5 digest and the requested checksums (raw digests)."""

    blob_id: str
    size: int
    md5: bytes
    checksums: dict[str, bytes] = field(default_factory=dict)


class Sealer(Protocol):
    """Encrypts a blob as it is written (see :mod:`kumoi.storage.blob.crypto` for the layout):
    ``header`` first, then every ``chunk_size`` plaintext bytes sealed on their own."""

    header: bytes
    chunk_size: int

    def seal(self, index: int, data: bytes | memoryview, final: bool) -> bytes: ...

    def sealed_length(self, plain: int) -> int:
        """Bytes that ``plain`` plaintext bytes take sealed (without the header)."""
        ...

    def seal_pieces(
        self, first: int, pieces: Sequence[bytes | bytearray | memoryview], final: bool, out: memoryview
    ) -> int:
        """Seal the bytes of ``pieces`` as chunks ``first``, ``first + 1``, ... into the start of
        ``out`` (every chunk whole but the last, which is sealed as the blob's final one if
        ``final``); returns how many bytes that took (:meth:`sealed_length`)."""
        ...


class BlobReader(Protocol):
    """Blocking reads of one blob's raw bytes at any offset; one thread at a time uses it."""

    def read(self, offset: int, length: int) -> memoryview:
        """Up to ``length`` bytes from ``offset`` (fewer only at the blob's end), valid until the
        next read or :meth:`close`."""
        ...

    def close(self) -> None: ...


class BlobWriter(Protocol):
    blob_id: str

    async def write(self, data: bytes) -> None: ...

    async def commit(self) -> BlobInfo:
        """Make the blob durable and visible under ``blob_id``."""
        ...

    async def abort(self) -> None:
        """Discard everything written; safe to call after a failed write or twice."""
        ...


class BlobStore(Protocol):
    async def start(self) -> None:
        """Create directories and remove leftover staging files from a crash."""
        ...

    async def close(self) -> None: ...

    def new_writer(
        self, checksums: Iterable[str] = (), sealer: Sealer | None = None, check: PayloadCheck | None = None
    ) -> BlobWriter:
        """A writer; with a ``sealer`` the file holds sealed chunks while ``BlobInfo`` (size and
        digests) still describes the plaintext. A body's deferred ``check`` is fed every byte
        with the digests (its ``verify`` is the caller's)."""
        ...

    async def write_stream(
        self, stream: BodyStream, checksums: Iterable[str] = (), limit: int | None = None
    ) -> BlobInfo:
        """Stream ``stream`` into a new blob and commit it; abort and re-raise on any error
        (including the stream's own verification errors and :class:`BodyTooLarge` past ``limit``)."""
        ...

    async def open(self, blob_id: str, offset: int = 0, length: int | None = None) -> FileBody:
        """Open a committed blob for reading ``length`` bytes from ``offset`` (raw file bytes: a
        sealed blob is decrypted by its reader)."""
        ...

    def open_blocking(self, blob_id: str, span: int) -> BlobReader:
        """A reader of the blob's raw file bytes, for code already on a worker thread that will
        read about ``span`` of them."""
        ...

    async def delete(self, blob_id: str) -> None:
        """Remove a blob; a missing blob is not an error."""
        ...
