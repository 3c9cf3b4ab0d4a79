"""S3's small rule modules: conditional requests, multipart checksums, tags, CORS matching."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from awscrt import checksums as crt

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import conditions, cors, mpu_checksums, tagging
from kumoi.storage.meta.contract import ObjectRecord, PutCondition

RECORD = ObjectRecord("b", "k", 1, '"abc"', 1_000_000.7)
BEFORE = datetime.fromtimestamp(999_999, UTC)
SAME_SECOND = datetime.fromtimestamp(1_000_000, UTC)


def _outcome(**request: Any) -> int:
    try:
        conditions.check_read(request, RECORD)
    except ServiceError as error:
        return error.status
    return 200


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        ({}, 200),
        ({"IfMatch": '"abc"'}, 200),
        ({"IfMatch": "abc"}, 200),
        ({"IfMatch": '"x", "abc"'}, 200),
        ({"IfMatch": "*"}, 200),
        ({"IfMatch": '"x"'}, 412),
        ({"IfMatch": '"abc"', "IfUnmodifiedSince": BEFORE}, 200),
        ({"IfUnmodifiedSince": BEFORE}, 412),
        ({"IfUnmodifiedSince": SAME_SECOND}, 200),
        ({"IfNoneMatch": '"abc"'}, 304),
        ({"IfNoneMatch": '"x"', "IfModifiedSince": SAME_SECOND}, 200),
        ({"IfModifiedSince": SAME_SECOND}, 304),
        ({"IfModifiedSince": BEFORE}, 200),
        ({"IfMatch": '"x"', "IfNoneMatch": '"abc"'}, 412),
    ],
)
def test_read_precedence(request_: dict[str, Any], status: int) -> None:
    assert _outcome(**request_) == status


def test_not_modified_carries_etag_and_date() -> None:
    with pytest.raises(ServiceError) as info:
        conditions.check_read({"IfNoneMatch": "*"}, RECORD)
    assert info.value.headers["ETag"] == '"abc"'
    assert info.value.headers["Last-Modified"].endswith("GMT")


def test_copy_source_failures_are_all_412() -> None:
    for request in ({"CopySourceIfNoneMatch": '"abc"'}, {"CopySourceIfModifiedSince": SAME_SECOND}):
        with pytest.raises(ServiceError) as info:
            conditions.check_copy_source(request, RECORD)
        assert info.value.status == 412


def test_write_conditions() -> None:
    assert conditions.write_condition({}) is None
    assert conditions.write_condition({"IfNoneMatch": "*"}) == PutCondition(if_none_match=True)
    assert conditions.write_condition({"IfMatch": "abc"}) == PutCondition(if_match='"abc"')
    with pytest.raises(ServiceError) as info:
        conditions.write_condition({"IfNoneMatch": '"abc"'})
    assert (info.value.code, info.value.status) == ("NotImplemented", 501)


def test_composite_and_full_object_checksums() -> None:
    parts = [b"a" * 1000, b"b" * 10, b"c"]
    crcs = [base64.b64encode(zlib.crc32(p).to_bytes(4, "big")).decode() for p in parts]
    whole = base64.b64encode(zlib.crc32(b"".join(parts)).to_bytes(4, "big")).decode()
    assert (
        mpu_checksums.full_object("crc32", [(c, len(p)) for c, p in zip(crcs, parts, strict=True)]) == whole
    )
    raw = b"".join(base64.b64decode(c) for c in crcs)
    expected = base64.b64encode(zlib.crc32(raw).to_bytes(4, "big")).decode() + "-3"
    assert mpu_checksums.composite("crc32", crcs) == expected
    nvme = [base64.b64encode(crt.crc64nvme(p).to_bytes(8, "big")).decode() for p in parts]
    combined = mpu_checksums.full_object("crc64nvme", [(c, len(p)) for c, p in zip(nvme, parts, strict=True)])
    assert combined == base64.b64encode(crt.crc64nvme(b"".join(parts)).to_bytes(8, "big")).decode()


@pytest.mark.parametrize(
    ("algorithm", "requested", "result"),
    [
        ("crc32", None, "COMPOSITE"),
        ("crc64nvme", None, "FULL_OBJECT"),
        ("crc32c", "FULL_OBJECT", "FULL_OBJECT"),
        ("sha256", "COMPOSITE", "COMPOSITE"),
        ("sha1", "FULL_OBJECT", None),
        ("crc64nvme", "COMPOSITE", None),
    ],
)
def test_checksum_types(algorithm: str, requested: str | None, result: str | None) -> None:
    if result is None:
        with pytest.raises(ServiceError):
            mpu_checksums.checksum_type(algorithm, requested)
    else:
        assert mpu_checksums.checksum_type(algorithm, requested) == result


def test_tag_header_and_limits() -> None:
    assert tagging.from_header("a=1&b=x%20y&c=") == {"a": "1", "b": "x y", "c": ""}
    with pytest.raises(ServiceError):
        tagging.from_header("a=1&a=2")
    with pytest.raises(ServiceError):
        tagging.from_tag_set([{"Key": "k", "Value": "v" * 257}], tagging.MAX_OBJECT_TAGS)


def test_cors_matching() -> None:
    rules = [
        {
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["PUT"],
            "AllowedHeaders": ["x-amz-*"],
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]
    assert cors.matching_rule(rules, "https://a.example.com", "PUT", ["X-Amz-Date"]) is rules[0]
    assert cors.matching_rule(rules, "https://a.example.com", "PUT", ["content-type"]) is None
    assert cors.matching_rule(rules, "http://a.example.com", "PUT") is None
    assert cors.matching_rule(rules, "https://x[1].org", "GET") is rules[1]
    assert cors.matching_rule(rules, "https://x.org", "DELETE") is None
    with pytest.raises(ServiceError):
        cors.validate_rules([{"AllowedOrigins": ["*"], "AllowedMethods": ["OPTIONS"]}])
    with pytest.raises(ServiceError):
        cors.validate_rules([{"AllowedOrigins": ["*"]}])
