"""The x-amz-checksum-* headers of PutObject and UploadPart are checked before the body is read,
with S3's errors: one checksum at most, a well-formed digest, the SDK's algorithm header naming
it, and on a multipart upload created with an algorithm, parts of that algorithm."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of
from tests.support.raw import RawResponse, send, signed_headers, signed_send
from tests.support.server import ServerProcess

BODY = b"checked body"
SINGLE = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."


def crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def answer(response: RawResponse) -> tuple[int, str, str]:
    def element(name: bytes) -> str:
        start = response.body.find(b"<" + name + b">") + len(name) + 2
        return response.body[start : response.body.find(b"</" + name + b">")].decode()

    return response.status, element(b"Code"), element(b"Message")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"x-amz-checksum-crc32": crc32(BODY), "x-amz-checksum-sha256": sha256(BODY)}, SINGLE),
        ({"x-amz-checksum-crc32": "not base64!"}, "Value for x-amz-checksum-crc32 header is invalid."),
        ({"x-amz-checksum-sha256": crc32(BODY)}, "Value for x-amz-checksum-sha256 header is invalid."),
        (
            {"x-amz-checksum-crc32": crc32(BODY), "x-amz-sdk-checksum-algorithm": "SHA256"},
            "Value for x-amz-sdk-checksum-algorithm header is invalid.",
        ),
    ],
)
def test_put_object_refuses_checksum_headers_s3_refuses(
    server: ServerProcess, s3: Any, bucket: str, headers: dict[str, str], message: str
) -> None:
    response = signed_send(server.endpoint, "PUT", f"/{bucket}/obj", BODY, service="s3", headers=headers)
    assert answer(response) == (400, "InvalidRequest", message)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="obj")
    assert error_of(excinfo)[1] == 404


def test_a_checksum_header_beside_a_trailer_is_refused(server: ServerProcess, s3: Any, bucket: str) -> None:
    path = f"/{bucket}/obj"
    payload = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n" % (len(BODY), BODY)
    headers = {
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(BODY)),
        "X-Amz-Trailer": "x-amz-checksum-crc32c",
        "x-amz-checksum-crc32": crc32(BODY),
    }
    signed = signed_headers("PUT", server.endpoint + path, b"", headers, "s3")
    signed["Content-Length"] = str(len(payload))
    response = send(server.endpoint, "PUT", path, payload, signed)
    assert answer(response) == (400, "InvalidRequest", "Expecting a single x-amz-checksum- header")
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="obj")
    assert error_of(excinfo)[1] == 404


def test_put_object_takes_one_checksum_of_the_declared_algorithm(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    def put(headers: dict[str, str]) -> RawResponse:
        return signed_send(server.endpoint, "PUT", f"/{bucket}/obj", BODY, service="s3", headers=headers)

    assert put({"x-amz-checksum-crc32": crc32(BODY), "x-amz-sdk-checksum-algorithm": "CRC32"}).status == 200
    assert answer(put({"x-amz-checksum-crc32": crc32(b"x")}))[:2] == (400, "BadDigest")
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32(BODY)


def _part(server: ServerProcess, bucket: str, upload_id: str, headers: dict[str, str]) -> RawResponse:
    path = f"/{bucket}/mpu?partNumber=1&uploadId={upload_id}"
    return signed_send(server.endpoint, "PUT", path, BODY, service="s3", headers=headers)


def test_parts_carry_the_algorithm_their_upload_was_created_with(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mpu", ChecksumAlgorithm="SHA256")["UploadId"]
    mismatch = "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: "
    assert answer(_part(server, bucket, upload_id, {})) == (400, "InvalidRequest", mismatch + "null")
    other = _part(server, bucket, upload_id, {"x-amz-checksum-crc32": crc32(BODY)})
    assert answer(other) == (400, "InvalidRequest", mismatch + "crc32")
    assert s3.list_parts(Bucket=bucket, Key="mpu", UploadId=upload_id).get("Parts", []) == []
    done = _part(server, bucket, upload_id, {"x-amz-checksum-sha256": sha256(BODY)})
    assert done.status == 200
    assert done.headers.get("x-amz-checksum-sha256") == sha256(BODY)


def test_full_object_and_undeclared_uploads_take_parts_without_their_algorithm(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    full = s3.create_multipart_upload(
        Bucket=bucket, Key="mpu", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    assert _part(server, bucket, full, {}).status == 200
    plain = s3.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    assert _part(server, bucket, plain, {}).status == 200
    assert _part(server, bucket, plain, {"x-amz-checksum-crc32": crc32(BODY)}).status == 200
    # boto3 sends its default CRC32 with every part of an upload created without an algorithm.
    assert s3.upload_part(Bucket=bucket, Key="mpu", UploadId=plain, PartNumber=2, Body=BODY)["ETag"]
