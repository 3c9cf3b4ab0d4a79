"""The integrity headers of S3 document bodies (``rest_s3.check_document_integrity``): required
where the model says so, and checked against the body whenever sent."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers
from kumoi.protocol.rest_s3 import check_document_integrity, checksum_required, checksums_body


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _code(headers: dict[str, str], data: bytes, *, required: bool = True) -> str | None:
    try:
        check_document_integrity(Headers(headers.items()), data, required=required)
    except ServiceError as error:
        return error.code
    return None


@given(st.binary(max_size=256), st.binary(min_size=1, max_size=16))
def test_matching_headers_pass_and_others_fail(data: bytes, extra: bytes) -> None:
    other = data + extra
    assert _code({"Content-MD5": _md5(data)}, data) is None
    assert _code({"x-amz-checksum-crc32": _crc32(data)}, data) is None
    assert _code({"Content-MD5": _md5(other)}, data) == "BadDigest"
    assert _code({"x-amz-checksum-crc32": _crc32(other)}, data) == "BadDigest"
    assert _code({"Content-MD5": _md5(data), "x-amz-checksum-crc32": _crc32(other)}, data) == "BadDigest"


def test_presence_rules() -> None:
    assert _code({}, b"<a/>") == "InvalidRequest"
    assert _code({}, b"<a/>", required=False) is None
    # Headers that are not checksums do not count; algorithms kumoi cannot compute count unchecked.
    assert _code({"x-amz-checksum-type": "FULL_OBJECT", "x-amz-checksum-algorithm": "CRC32"}, b"") == (
        "InvalidRequest"
    )
    assert _code({"x-amz-checksum-sha512": "whatever"}, b"<a/>") is None
    # A checksum in the aws-chunked trailer is verified by the SigV4 layer's stream.
    assert _code({"x-amz-trailer": "x-amz-checksum-crc32"}, b"<a/>") is None


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_invalid_content_md5(value: str) -> None:
    assert _code({"Content-MD5": value}, b"<a/>") == "InvalidDigest"


def test_traits() -> None:
    assert checksum_required({"requestChecksumRequired": True})
    assert not checksum_required({"requestAlgorithmMember": "ChecksumAlgorithm"})
    assert checksums_body({"requestAlgorithmMember": "ChecksumAlgorithm", "requestChecksumRequired": False})
    assert checksums_body({"requestChecksumRequired": True})
    assert not checksums_body({})
