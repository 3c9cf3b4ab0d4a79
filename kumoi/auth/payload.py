"""A body stream that checks the ``x-amz-content-sha256`` a client signed against what arrives.

The hash is only known once the last byte is in, so the check runs when the inner stream ends:
the final ``read`` raises ``XAmzContentSHA256Mismatch`` instead of returning ``b""`` (see
:mod:`kumoi.core.streams`: consumers commit only on a clean end of stream).
"""

from __future__ import annotations

import hashlib

from kumoi.auth.errors import content_sha256_mismatch
from kumoi.core.errors import ServiceError
from kumoi.core.streams import DEFAULT_CHUNK, BodyStream


class Sha256VerifyingBody:
    __slots__ = ("_error", "_expected", "_hash", "_inner")

    def __init__(self, inner: BodyStream, expected_hex: str) -> None:
        self._inner = inner
        self._expected = expected_hex.lower()
        self._hash = hashlib.sha256()
        self._error: ServiceError | None = None

    @property
    def content_length(self) -> int | None:
        return self._inner.content_length

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        if self._error is not None:
            raise self._error
        chunk = await self._inner.read(n)
        if chunk:
            self._hash.update(chunk)
            return chunk
        computed = self._hash.hexdigest()
        if computed != self._expected:
            self._error = content_sha256_mismatch(self._expected, computed)
            raise self._error
        return b""
