"""S3 wire details checked against the API reference: operations whose model requires a checksum
refuse requests without ``Content-MD5`` or ``x-amz-checksum-*`` and check the ones they carry;
PutBucketTagging and PutBucketPolicy answer 204 like the Delete* operations; CopyObject and
CompleteMultipartUpload say ``x-amz-expiration``; a copy is STANDARD and has no website redirect
unless the request says otherwise."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.loaders import Loader

from tests.integration.s3.conftest import error_of, unique
from tests.support.raw import RawResponse, signed_send
from tests.support.server import ServerProcess

TAGGING = (
    b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
    b"<Tag><Key>team</Key><Value>core</Value></Tag></TagSet></Tagging>"
)
MISSING = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"


def _model_operations() -> dict[str, Any]:
    operations: dict[str, Any] = Loader().load_service_model("s3", "service-2")["operations"]
    return operations


def _checksum_required() -> list[tuple[str, str, str]]:
    """(operation, method, request URI) of every operation the model marks requestChecksumRequired
    (deprecated ones share their URI with a successor, which is what such a request reaches)."""
    return [
        (name, op["http"]["method"], op["http"]["requestUri"])
        for name, op in sorted(_model_operations().items())
        if (op.get("httpChecksum") or {}).get("requestChecksumRequired") and not op.get("deprecated")
    ]


def _code(response: RawResponse) -> str:
    start = response.body.find(b"<Code>") + len(b"<Code>")
    return response.body[start : response.body.find(b"</Code>")].decode()


def _message(response: RawResponse) -> str:
    start = response.body.find(b"<Message>") + len(b"<Message>")
    return response.body[start : response.body.find(b"</Message>")].decode()


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def _crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("fw")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="obj", Body=b"x")
    return name


def test_the_model_lists_the_operations_we_expect() -> None:
    names = {name for name, _method, _uri in _checksum_required()}
    assert {
        "DeleteObjects",
        "PutBucketAcl",
        "PutBucketCors",
        "PutBucketLifecycleConfiguration",
        "PutBucketPolicy",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "PutObjectLockConfiguration",
        "PutObjectRetention",
        "PutObjectTagging",
        "PutPublicAccessBlock",
    } <= names


@pytest.mark.parametrize(("operation", "method", "uri"), _checksum_required())
def test_checksum_required_operations_refuse_requests_without_one(
    server: ServerProcess, bucket: str, operation: str, method: str, uri: str
) -> None:
    path = uri.replace("{Bucket}", bucket).replace("{Key+}", "obj")
    response = signed_send(server.endpoint, method, path, b"<Document/>", service="s3")
    answer = (response.status, _code(response), _message(response))
    assert answer == (400, "InvalidRequest", MISSING), operation


def test_integrity_headers_are_checked_against_the_body(server: ServerProcess, s3: Any, bucket: str) -> None:
    path = f"/{bucket}?tagging"

    def put(headers: dict[str, str]) -> RawResponse:
        return signed_send(server.endpoint, "PUT", path, TAGGING, service="s3", headers=headers)

    wrong = _md5(b"something else")
    refused = put({"Content-MD5": wrong})
    assert (refused.status, _code(refused)) == (400, "BadDigest")
    assert b"<CalculatedDigest>" + _md5(TAGGING).encode() in refused.body
    invalid = put({"Content-MD5": "not-base64"})
    assert (invalid.status, _code(invalid)) == (400, "InvalidDigest")
    bad_crc = put({"x-amz-checksum-crc32": _crc32(b"other"), "x-amz-sdk-checksum-algorithm": "CRC32"})
    assert (bad_crc.status, _code(bad_crc), _message(bad_crc)) == (
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    )
    # Both present: each must match.
    mixed = put({"Content-MD5": _md5(TAGGING), "x-amz-checksum-crc32": _crc32(b"other")})
    assert _code(mixed) == "BadDigest"
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchTagSet", 404)
    # Either one that matches is enough.
    assert put({"Content-MD5": _md5(TAGGING)}).status == 204
    sha256 = base64.b64encode(hashlib.sha256(TAGGING).digest()).decode()
    assert put({"x-amz-checksum-sha256": sha256}).status == 204
    assert put({"x-amz-checksum-crc32": _crc32(TAGGING)}).status == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "core"}]


def test_delete_objects_keeps_the_keys_when_the_checksum_is_wrong(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    body = b"<Delete><Object><Key>obj</Key></Object></Delete>"
    path = f"/{bucket}?delete"
    missing = signed_send(server.endpoint, "POST", path, body, service="s3")
    assert (missing.status, _code(missing)) == (400, "InvalidRequest")
    wrong = signed_send(
        server.endpoint, "POST", path, body, service="s3", headers={"x-amz-checksum-crc32": _crc32(b"x")}
    )
    assert (wrong.status, _code(wrong)) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"x"
    done = signed_send(
        server.endpoint, "POST", path, body, service="s3", headers={"x-amz-checksum-crc32": _crc32(body)}
    )
    assert done.status == 200 and b"<Deleted><Key>obj</Key></Deleted>" in done.body
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_operations_without_the_requirement_still_verify_what_they_carry(
    server: ServerProcess, bucket: str
) -> None:
    # RestoreObject's model has a request checksum, not a required one: none is fine, but one it
    # carries must match the body.
    body = b"<RestoreRequest><Days>1</Days></RestoreRequest>"
    path = f"/{bucket}/obj?restore"
    plain = signed_send(server.endpoint, "POST", path, body, service="s3")
    assert (plain.status, _code(plain)) == (403, "InvalidObjectState")
    for headers in ({"Content-MD5": _md5(b"x")}, {"x-amz-checksum-crc32": _crc32(b"x")}):
        wrong = signed_send(server.endpoint, "POST", path, body, service="s3", headers=headers)
        assert (wrong.status, _code(wrong)) == (400, "BadDigest")


def test_complete_multipart_upload_checksum_headers_are_the_objects(s3: Any, bucket: str) -> None:
    """CompleteMultipartUpload's x-amz-checksum-* is the whole object's checksum, not its body's."""
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key="mpu", ChecksumType="FULL_OBJECT", ChecksumAlgorithm="CRC32"
    )["UploadId"]
    part = s3.upload_part(
        Bucket=bucket, Key="mpu", UploadId=upload, PartNumber=1, Body=b"whole", ChecksumAlgorithm="CRC32"
    )
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mpu",
        UploadId=upload,
        ChecksumCRC32=_crc32(b"whole"),
        ChecksumType="FULL_OBJECT",
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}]
        },
    )
    assert done["ChecksumCRC32"] == _crc32(b"whole")


def _status(response: dict[str, Any]) -> int:
    status: int = response["ResponseMetadata"]["HTTPStatusCode"]
    return status


def test_no_content_answers(s3: Any, bucket: str) -> None:
    tagging = {"TagSet": [{"Key": "a", "Value": "b"}]}
    assert _status(s3.put_bucket_tagging(Bucket=bucket, Tagging=tagging)) == 204
    assert _status(s3.delete_bucket_tagging(Bucket=bucket)) == 204
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ],
    }
    assert _status(s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))) == 204
    assert _status(s3.delete_bucket_policy(Bucket=bucket)) == 204
    s3.put_object_tagging(Bucket=bucket, Key="obj", Tagging=tagging)
    assert _status(s3.delete_object_tagging(Bucket=bucket, Key="obj")) == 204
    rules = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3}}]}
    assert _status(s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)) == 200
    assert _status(s3.delete_bucket_lifecycle(Bucket=bucket)) == 204
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    assert _status(s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors)) == 200
    assert _status(s3.delete_bucket_cors(Bucket=bucket)) == 204
    assert _status(s3.delete_bucket_encryption(Bucket=bucket)) == 204
    assert _status(s3.delete_bucket_ownership_controls(Bucket=bucket)) == 204
    assert _status(s3.delete_public_access_block(Bucket=bucket)) == 204


def test_copy_and_complete_say_when_lifecycle_expires_the_object(s3: Any, bucket: str) -> None:
    rules = {
        "Rules": [
            {"ID": "logs rule", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 7}}
        ]
    }
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)
    copied = s3.copy_object(Bucket=bucket, Key="logs/copy", CopySource={"Bucket": bucket, "Key": "obj"})
    expiration = copied["Expiration"]
    assert expiration.startswith('expiry-date="') and expiration.endswith('", rule-id="logs%20rule"')
    assert s3.head_object(Bucket=bucket, Key="logs/copy")["Expiration"] == expiration
    upload = s3.create_multipart_upload(Bucket=bucket, Key="logs/big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="logs/big", UploadId=upload, PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="logs/big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["Expiration"] == s3.head_object(Bucket=bucket, Key="logs/big")["Expiration"]
    assert done["Expiration"].endswith('rule-id="logs%20rule"')
    # Keys no rule covers get none.
    assert "Expiration" not in s3.copy_object(
        Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "obj"}
    )


def test_copy_is_standard_without_a_redirect_unless_asked(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="src",
        Body=b"data",
        StorageClass="STANDARD_IA",
        WebsiteRedirectLocation="/elsewhere.html",
        ContentType="text/plain",
        Metadata={"m": "v"},
    )
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert "StorageClass" not in head and "WebsiteRedirectLocation" not in head
    # The rest of the metadata is copied (COPY directive).
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"m": "v"}
    s3.copy_object(
        Bucket=bucket,
        Key="asked",
        CopySource={"Bucket": bucket, "Key": "src"},
        StorageClass="ONEZONE_IA",
        WebsiteRedirectLocation="/new.html",
    )
    head = s3.head_object(Bucket=bucket, Key="asked")
    assert head["StorageClass"] == "ONEZONE_IA" and head["WebsiteRedirectLocation"] == "/new.html"
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["plain"] == "STANDARD" and listed["src"] == "STANDARD_IA"
