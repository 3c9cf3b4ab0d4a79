"""Checksums S3 clients use (``x-amz-checksum-*``), computed incrementally.

One implementation serves every layer: the blob store computes them while a body streams to disk,
and the SigV4 layer checks aws-chunked trailers with them. CRC32 (what SDKs send by default)
comes from ``zlib`` (5 GB/s here against awscrt's 2, no import cost); CRC32C and CRC64NVME from
``awscrt.checksums`` (hardware-accelerated, releases the GIL), imported when first needed, which
keeps ~30 ms and ~5 MiB out of start-up. SHA-1/SHA-256 and MD5 come from ``hashlib``,
which releases the GIL on large buffers. Digests are raw bytes, big-endian for the CRCs, as S3 puts
them (base64-encoded) on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable

from kumoi.core.streams import PayloadCheck

#: Algorithm names, as S3's ``x-amz-checksum-<name>`` headers spell them.
ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
HEADER_PREFIX = "x-amz-checksum-"

#: CRC algorithms by name: their digest width in bytes.
CRC_WIDTHS = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}
#: Bytes of every algorithm's digest.
DIGEST_SIZES = {**CRC_WIDTHS, "sha1": 20, "sha256": 32}
_CRCS: dict[str, Callable[[bytes, int], int]] = {"crc32": zlib.crc32}
_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
#: hashlib releases the GIL for updates of this many bytes or more (CPython's HASHLIB_GIL_MINSIZE),
#: and for every update of that object after one.
GIL_RELEASE_SIZE = 2048
#: Up to this many bytes the event loop hashes holding the GIL (about 0.15 ms of SHA-256). A GIL
#: given up under load is taken by another thread (the metadata store's writer) and the loop then
#: waits to get it back, a context switch each way: that costs more than hashing a few KiB, and
#: larger inputs take long enough to hash for the handoff to pay.
HOLD_GIL_LIMIT = 64 * 1024


def pieces_holding_gil(data: bytes) -> list[bytes] | list[memoryview]:
    """``data`` in pieces that hashlib hashes without releasing the GIL."""
    if len(data) < GIL_RELEASE_SIZE:
        return [data]
    view, step = memoryview(data), GIL_RELEASE_SIZE - 1
    return [view[start : start + step] for start in range(0, len(data), step)]


class UnknownChecksum(ValueError):
    """A checksum algorithm outside :data:`ALGORITHMS`."""


class Checksum:
    """A running checksum of one algorithm."""

    __slots__ = ("_crc", "_hash", "_value", "_width", "algorithm")

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._value = 0
        if algorithm in CRC_WIDTHS:
            self._crc: Callable[[bytes, int], int] | None = _CRCS.get(algorithm) or _crc(algorithm)
            self._width = CRC_WIDTHS[algorithm]
            self._hash = None
        elif algorithm in _HASHES:
            self._crc = None
            self._width = 0
            self._hash = _HASHES[algorithm]()
        else:
            raise UnknownChecksum(f"unknown checksum algorithm {algorithm!r}; known: {ALGORITHMS}")

    def update(self, data: bytes) -> None:
        if self._crc is not None:
            self._value = self._crc(data, self._value)
        else:
            assert self._hash is not None
            self._hash.update(data)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._value.to_bytes(self._width, "big")

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


def _crc(algorithm: str) -> Callable[[bytes, int], int]:
    """awscrt's function for a CRC, imported at first use."""
    from awscrt import checksums as crt

    _CRCS.update(crc32c=crt.crc32c, crc64nvme=crt.crc64nvme)
    return _CRCS[algorithm]


def checksum_for_header(header_name: str) -> Checksum | None:
    """A fresh running checksum for ``x-amz-checksum-<algorithm>``, or None if unknown."""
    name = header_name.lower()
    if not name.startswith(HEADER_PREFIX) or name[len(HEADER_PREFIX) :] not in ALGORITHMS:
        return None
    return Checksum(name[len(HEADER_PREFIX) :])


class Digests:
    """Running MD5 and requested checksums over everything passed to :meth:`update`, which also
    feeds a body's deferred check if one is given (see :func:`kumoi.core.streams.defer_check`).
    A requested checksum the check keeps anyway (an aws-chunked trailer's) is read from the check,
    not computed twice."""

    __slots__ = ("_checksums", "_md5", "_updates")

    def __init__(self, algorithms: Iterable[str] = (), check: PayloadCheck | None = None) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        shared = check.running() if check is not None else {}
        self._checksums = [shared.get(name) or Checksum(name) for name in dict.fromkeys(algorithms)]
        own = [checksum for checksum in self._checksums if checksum.algorithm not in shared]
        self._updates: list[Callable[[bytes], None]] = [self._md5.update]
        self._updates += [checksum.update for checksum in own]
        if check is not None:
            self._updates.append(check.update)

    def update(self, data: bytes) -> None:
        for update in self._updates:
            update(data)

    def update_on_loop(self, data: bytes) -> None:
        """:meth:`update` from the event loop: up to :data:`HOLD_GIL_LIMIT` bytes are hashed
        without giving up the GIL."""
        if len(data) > HOLD_GIL_LIMIT:
            self.update(data)
            return
        for piece in pieces_holding_gil(data):
            for update in self._updates:
                update(piece)  # type: ignore[arg-type]  # every digest reads any buffer

    def md5(self) -> bytes:
        return self._md5.digest()

    def checksums(self) -> dict[str, bytes]:
        return {checksum.algorithm: checksum.digest() for checksum in self._checksums}
