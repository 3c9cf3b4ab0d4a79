"""S3 object checksums: which algorithms a request asks for, and checking what the client sent.

Algorithms are named as the blob store names them (``crc32``, ``crc32c``, ``crc64nvme``, ``sha1``,
``sha256``); on the wire they are the ``Checksum<ALG>`` members with base64 digests. Like S3 since
2025, every object gets a CRC64NVME checksum when the client asks for none.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.core.checksums import DIGEST_SIZES
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BodyStream

MEMBERS = {
    "crc32": "ChecksumCRC32",
    "crc32c": "ChecksumCRC32C",
    "crc64nvme": "ChecksumCRC64NVME",
    "sha1": "ChecksumSHA1",
    "sha256": "ChecksumSHA256",
}
DEFAULT_ALGORITHM = "crc64nvme"
_TRAILER_NAMES = {f"x-amz-checksum-{alg}": alg for alg in MEMBERS}


def trailer_algorithms(body: BodyStream) -> list[str]:
    """The algorithms an aws-chunked body declares in ``x-amz-trailer`` (values at its end)."""
    names: tuple[str, ...] = getattr(body, "declared_trailers", ())
    return [algorithm for name in names if (algorithm := _TRAILER_NAMES.get(name.lower())) is not None]


def check_sent(request: Mapping[str, Any], trailer: Sequence[str]) -> list[str]:
    """The algorithms whose checksum a write sends (in a header or named in ``trailer``), checked
    as S3 checks them: one at most, each header a well-formed digest, and the SDK's
    ``x-amz-sdk-checksum-algorithm`` naming the same algorithm."""
    headers = [algorithm for algorithm, member in MEMBERS.items() if member in request]
    if len(headers) > 1:
        raise ServiceError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )
    if len(headers) + len(trailer) > 1:
        raise ServiceError("InvalidRequest", "Expecting a single x-amz-checksum- header")
    for algorithm in headers:
        if _digest_size(str(request[MEMBERS[algorithm]])) != DIGEST_SIZES[algorithm]:
            raise ServiceError("InvalidRequest", f"Value for x-amz-checksum-{algorithm} header is invalid.")
    sent = headers or list(trailer)
    declared = request.get("ChecksumAlgorithm")
    if isinstance(declared, str) and sent and sent != [declared.lower()]:
        raise ServiceError("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
    return sent


def _digest_size(value: str) -> int:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return -1


def requested(
    request: Mapping[str, Any], trailer: Sequence[str] = (), declared: str | None = None
) -> list[str]:
    """Algorithms to compute for a write: the declared one (``declared``, an upload's algorithm
    for its parts, stands in for the request's ``ChecksumAlgorithm``), any whose value was sent
    (in a header or, named in ``trailer``, in the aws-chunked trailer), else the default."""
    wanted: list[str] = []
    if declared is None:
        declared = request.get("ChecksumAlgorithm")
    if isinstance(declared, str):
        algorithm = declared.lower()
        if algorithm not in MEMBERS:
            raise ServiceError("InvalidRequest", f"Checksum algorithm {declared} is not supported.")
        wanted.append(algorithm)
    for algorithm, member in MEMBERS.items():
        if member in request and algorithm not in wanted:
            wanted.append(algorithm)
    wanted += [algorithm for algorithm in trailer if algorithm not in wanted]
    if not wanted:
        wanted.append(DEFAULT_ALGORITHM)
    return wanted


def expected_values(request: Mapping[str, Any], trailers: Mapping[str, str]) -> dict[str, str]:
    """The base64 checksums the client sent, in headers or in the aws-chunked trailer."""
    values = {alg: str(request[member]) for alg, member in MEMBERS.items() if member in request}
    for name, value in trailers.items():
        algorithm = _TRAILER_NAMES.get(name.lower())
        if algorithm is not None:
            values[algorithm] = value.strip()
    return values


def verify(computed: Mapping[str, bytes], expected: Mapping[str, str]) -> dict[str, str]:
    """Compare, and return every computed checksum as base64. Raises ``BadDigest`` on mismatch."""
    encoded = {alg: base64.b64encode(digest).decode() for alg, digest in computed.items()}
    for algorithm, value in expected.items():
        if encoded.get(algorithm) != value:
            raise ServiceError(
                "BadDigest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            )
    return encoded


def verify_content_md5(content_md5: str | None, md5: bytes) -> None:
    if content_md5 is None:
        return
    try:
        sent = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        sent = b""
    if len(sent) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if sent != md5:
        raise ServiceError(
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
            fields={"ExpectedDigest": content_md5, "CalculatedDigest": base64.b64encode(md5).decode()},
        )


def output_members(stored: Mapping[str, str]) -> dict[str, str]:
    """``Checksum<ALG>`` output members (plus ``ChecksumType``) for stored base64 checksums."""
    members = {MEMBERS[alg]: value for alg, value in stored.items() if alg in MEMBERS}
    if members:
        members["ChecksumType"] = "FULL_OBJECT"
    return members
