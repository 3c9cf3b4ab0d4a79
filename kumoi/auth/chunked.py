"""Decoding and verifying ``Content-Encoding: aws-chunked`` request bodies (S3 streaming uploads).

Framing, per the S3 SigV4 streaming documentation::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n      repeated
    0[;chunk-signature=<sig>]\\r\\n                          the final, empty chunk
    [<name>:<value>\\r\\n ...]                               trailers (``*-TRAILER`` payloads)
    [x-amz-trailer-signature:<sig>\\r\\n]                    signed trailers only
    \\r\\n

Signed chunks chain: chunk *n*'s signature covers its data and chunk *n-1*'s signature, starting
from the seed (the request's own signature), so chunks can be neither altered, dropped nor
reordered; the trailer signature continues the chain from the final chunk.

:class:`AwsChunkedBody` is a :class:`~kumoi.core.streams.BodyStream` of the *decoded* data.
It reads the framing lazily: data goes to the consumer as it arrives (no chunk is buffered
whole), each chunk's signature is checked as soon as its last byte has passed, and the trailer
(signature, declared ``x-amz-checksum-*``, decoded length) is checked before the final
``b""``. Any failure raises a :class:`ServiceError` from ``read``; the consumer never sees a
clean end of a bad body. ``trailers`` holds the trailing headers once the stream has ended.

Declared SHA-1/SHA-256 checksums are computed off the event loop: data is collected and handed to
a worker thread :data:`CHECKSUM_BATCH` bytes at a time (one batch in flight, in order; hashlib
releases the GIL), and what is left at the end is done on the loop, where a small body costs less
than a thread hop. Decoding a body with a SHA-256 trailer so costs the loop 0.2 instead of 0.75
CPU seconds per GiB (and the process 0.15 more, for the hops).
The CRCs stay on the loop: for them the hop and the worker's cache misses on data the loop has
just received cost more than they save (CRC32: 0.33 s/GiB on the loop, against 0.20 on the loop
plus 0.26 on the worker). A batch still running when the body fails is harmless: it reads only
immutable ``bytes``. A consumer that hashes the body on a worker thread anyway (the blob store, for
every large S3 body) takes the declared checksums over before its first read
(:func:`kumoi.core.streams.defer_check`): it computes them in its own pass, once, also for the
checksum it stores, and verifies them against the trailer before it uses the body. Chunk
signatures cover one chunk each and are checked as the chunk ends, so their SHA-256 stays on the
loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from kumoi.auth.canonical import EMPTY_SHA256
from kumoi.auth.errors import (
    bad_digest,
    chunk_signature_mismatch,
    incomplete_body,
    invalid_chunk,
    malformed_trailer,
)
from kumoi.core.checksums import Checksum, checksum_for_header
from kumoi.core.errors import ServiceError
from kumoi.core.streams import DEFAULT_CHUNK, BodyStream, PayloadCheck

#: Longest chunk-header or trailer line we accept (a signed header line is about 90 bytes).
MAX_LINE = 4096
#: Most trailing headers we accept.
MAX_TRAILERS = 32
#: How much framing we read at a time when looking for a line end.
LINE_READ = 8192
#: A chunk size has at most 16 hex digits (64 bits).
MAX_SIZE_DIGITS = 16
#: Decoded bytes collected before a worker thread adds them to the declared SHA checksums.
CHECKSUM_BATCH = 1 << 20
#: Declared checksums computed in batches on a worker thread (see the module docstring).
_BATCHED = frozenset({"sha1", "sha256"})

_SIGNATURE_EXT = "chunk-signature="
_TRAILER_SIGNATURE = "x-amz-trailer-signature"
_HEX = frozenset("0123456789abcdefABCDEF")


def _update_all(checksums: list[Checksum], pieces: list[bytes]) -> None:
    for checksum in checksums:
        for piece in pieces:
            checksum.update(piece)


@dataclass(frozen=True, slots=True)
class ChunkSigning:
    """What chunk and trailer signatures are computed with: the request's signing key, timestamp
    and scope, and the seed (the request signature) that starts the chain."""

    key: bytes
    amz_date: str
    scope: str
    seed_signature: str
    access_key_id: str


class _Framing:
    """A small read buffer over the raw stream: framing lines come from it, data passes through."""

    __slots__ = ("_buf", "_inner")

    def __init__(self, inner: BodyStream) -> None:
        self._inner = inner
        self._buf = bytearray()

    async def line(self, *, eof_ok: bool = False) -> str | None:
        """The next CRLF-terminated line without its CRLF; ``None`` at a clean EOF if ``eof_ok``."""
        start = 0
        while True:
            end = self._buf.find(b"\r\n", start)
            if end >= 0:
                if end > MAX_LINE:
                    raise invalid_chunk("framing line too long")
                text = bytes(self._buf[:end]).decode("latin-1")
                del self._buf[: end + 2]
                return text
            if len(self._buf) > MAX_LINE:
                raise invalid_chunk("framing line too long")
            start = max(0, len(self._buf) - 1)
            more = await self._inner.read(LINE_READ)
            if not more:
                if eof_ok and not self._buf:
                    return None
                raise incomplete_body()
            self._buf += more

    async def data(self, n: int) -> bytes:
        if self._buf:
            piece = bytes(self._buf[:n])
            del self._buf[:n]
            return piece
        return await self._inner.read(n)


class _TrailerCheck:
    """The declared trailer checksums of a body whose consumer took them over."""

    __slots__ = ("_body", "_checksums", "_updates")

    def __init__(self, body: AwsChunkedBody, checksums: dict[str, Checksum]) -> None:
        self._body = body
        self._checksums = checksums
        self._updates = [checksum.update for checksum in checksums.values()]

    def update(self, data: bytes) -> None:
        for update in self._updates:
            update(data)

    def running(self) -> Mapping[str, Checksum]:
        return {checksum.algorithm: checksum for checksum in self._checksums.values()}

    def verify(self) -> None:
        for name, checksum in self._checksums.items():
            if checksum.b64digest() != self._body.trailers.get(name):
                raise bad_digest(name)


class AwsChunkedBody:
    """The decoded, verified data of an aws-chunked body.

    ``signed``: chunk headers carry ``chunk-signature``; they are verified when ``signing`` is
    given (``None`` when the key could not be checked, e.g. ``--accept-any-key``).
    ``trailer``: trailing headers follow the final chunk (signed too when ``signed``).
    ``declared_trailers``: the ``x-amz-trailer`` names; declared checksums are verified.
    ``decoded_length``: ``x-amz-decoded-content-length``, enforced when given.
    """

    __slots__ = (
        "_batched",
        "_checksums",
        "_declared",
        "_decoded",
        "_done",
        "_error",
        "_framing",
        "_hash",
        "_on_loop",
        "_pending_signature",
        "_previous",
        "_remaining",
        "_signed",
        "_signing",
        "_started",
        "_summing",
        "_trailer",
        "_unsummed",
        "_unsummed_size",
        "decoded_length",
        "trailers",
    )

    def __init__(
        self,
        inner: BodyStream,
        *,
        signed: bool,
        trailer: bool,
        signing: ChunkSigning | None = None,
        declared_trailers: tuple[str, ...] = (),
        decoded_length: int | None = None,
    ) -> None:
        self._framing = _Framing(inner)
        self._signed = signed
        self._trailer = trailer
        self._signing = signing
        self._previous = signing.seed_signature if signing is not None else ""
        self._declared = declared_trailers
        self._checksums: dict[str, Checksum] = {}
        for name in declared_trailers:
            checksum = checksum_for_header(name)
            if checksum is not None:
                self._checksums[name] = checksum
        self.decoded_length = decoded_length
        self.trailers: dict[str, str] = {}
        self._decoded = 0
        self._remaining = -1
        self._pending_signature = ""
        self._hash = hashlib.sha256() if signing is not None else None
        self._on_loop = [c for c in self._checksums.values() if c.algorithm not in _BATCHED]
        self._batched = [c for c in self._checksums.values() if c.algorithm in _BATCHED]
        # Data not yet added to the batched checksums, and the batch a worker is adding.
        self._unsummed: list[bytes] = []
        self._unsummed_size = 0
        self._summing: asyncio.Future[None] | None = None
        self._done = False
        self._started = False
        self._error: ServiceError | None = None

    @property
    def content_length(self) -> int | None:
        return self.decoded_length

    @property
    def declared_trailers(self) -> tuple[str, ...]:
        """The ``x-amz-trailer`` names, known before the body is read (their values come last)."""
        return self._declared

    def hand_over_check(self) -> PayloadCheck | None:
        """The declared trailer checksums, for the consumer to compute and verify against the
        trailer (see :func:`kumoi.core.streams.defer_check`); ``None`` without any, or once
        reading has begun. Framing, chunk and trailer signatures, the declared trailers' presence
        and the decoded length are still checked here, as the body is read."""
        if self._started or not self._checksums:
            return None
        self._started = True
        check = _TrailerCheck(self, self._checksums)
        self._checksums, self._on_loop, self._batched = {}, [], []
        return check

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        self._started = True
        if self._error is not None:
            raise self._error
        try:
            return await self._read(n)
        except ServiceError as error:
            self._error = error
            raise

    async def _read(self, n: int) -> bytes:
        while not self._done:
            if self._remaining > 0:
                piece = await self._framing.data(min(n, self._remaining))
                if not piece:
                    raise incomplete_body()
                self._consume(piece)
                if self._unsummed_size >= CHECKSUM_BATCH:
                    await self._sum_batch()
                return piece
            if self._remaining == 0:
                if await self._framing.line() != "":
                    raise invalid_chunk("chunk data is not followed by CRLF")
                self._verify_chunk()
            size = await self._chunk_header()
            if size == 0:
                self._verify_chunk()
                await self._finish()
                self._done = True
            else:
                self._remaining = size
        return b""

    def _consume(self, piece: bytes) -> None:
        self._remaining -= len(piece)
        self._decoded += len(piece)
        if self.decoded_length is not None and self._decoded > self.decoded_length:
            raise invalid_chunk("more data than x-amz-decoded-content-length")
        if self._hash is not None:
            self._hash.update(piece)
        for checksum in self._on_loop:
            checksum.update(piece)
        if self._batched:
            self._unsummed.append(piece)
            self._unsummed_size += len(piece)

    async def _sum_batch(self) -> None:
        """Hand the collected data to a worker thread, after the batch before it."""
        if self._summing is not None:
            await self._summing
        batch, self._unsummed, self._unsummed_size = self._unsummed, [], 0
        self._summing = asyncio.get_running_loop().run_in_executor(None, _update_all, self._batched, batch)

    async def _sum_rest(self) -> None:
        summing, self._summing = self._summing, None
        if summing is not None:
            await summing
        _update_all(self._batched, self._unsummed)
        self._unsummed, self._unsummed_size = [], 0

    async def _chunk_header(self) -> int:
        line = await self._framing.line()
        assert line is not None
        size_text, _, extensions = line.partition(";")
        size_text = size_text.strip()
        if not size_text or len(size_text) > MAX_SIZE_DIGITS or not _HEX.issuperset(size_text):
            raise invalid_chunk("bad chunk size")
        if self._signed:
            if not extensions.startswith(_SIGNATURE_EXT):
                raise invalid_chunk("chunk-signature missing")
            signature = extensions[len(_SIGNATURE_EXT) :].strip()
            if len(signature) != 64:
                raise invalid_chunk("bad chunk-signature")
            self._pending_signature = signature
        return int(size_text, 16)

    def _verify_chunk(self) -> None:
        signing = self._signing
        if signing is None or self._hash is None:
            return
        string_to_sign = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{signing.amz_date}\n{signing.scope}\n{self._previous}\n"
            f"{EMPTY_SHA256}\n{self._hash.hexdigest()}"
        )
        self._previous = self._check(string_to_sign, self._pending_signature)
        self._hash = hashlib.sha256()

    def _check(self, string_to_sign: str, provided: str) -> str:
        assert self._signing is not None
        expected = hmac.digest(self._signing.key, string_to_sign.encode(), hashlib.sha256).hex()
        if not hmac.compare_digest(expected.encode(), provided.lower().encode("utf-8", "surrogateescape")):
            raise chunk_signature_mismatch(self._signing.access_key_id, string_to_sign, provided)
        return expected

    async def _finish(self) -> None:
        if self._trailer:
            await self._read_trailers()
        elif await self._framing.line(eof_ok=True) not in ("", None):
            raise invalid_chunk("data after the final chunk")
        if await self._framing.data(1):
            raise invalid_chunk("data after the final chunk")
        if self.decoded_length is not None and self._decoded != self.decoded_length:
            raise incomplete_body(
                "You did not provide the number of bytes specified by the x-amz-decoded-content-length "
                "HTTP header"
            )
        await self._sum_rest()
        for name, checksum in self._checksums.items():
            if checksum.b64digest() != self.trailers.get(name):
                raise bad_digest(name)

    async def _read_trailers(self) -> None:
        signature: str | None = None
        block: list[str] = []
        while True:
            line = await self._framing.line(eof_ok=True)
            if not line:
                break
            if len(self.trailers) >= MAX_TRAILERS:
                raise malformed_trailer()
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            if not colon or not name:
                raise malformed_trailer()
            if name == _TRAILER_SIGNATURE:
                signature = value
                continue
            self.trailers[name] = value
            block.append(f"{name}:{value}\n")
        for name in self._declared:
            if name not in self.trailers:
                raise malformed_trailer()
        if not self._signed:
            return
        if signature is None:
            raise malformed_trailer()
        signing = self._signing
        if signing is not None:
            digest = hashlib.sha256("".join(block).encode("latin-1")).hexdigest()
            string_to_sign = (
                f"AWS4-HMAC-SHA256-TRAILER\n{signing.amz_date}\n{signing.scope}\n{self._previous}\n{digest}"
            )
            self._check(string_to_sign, signature)
