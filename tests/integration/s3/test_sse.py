"""SSE-S3 and SSE-KMS through boto3: data sealed on disk, headers as AWS sends them, default
bucket encryption with AWS's validation, ranges over sealed chunks and parts."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of
from tests.support.server import ServerProcess

CHUNK = 64 * 1024
PART = 5 * 1024 * 1024
KMS_DEFAULT = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3"


def marker_data(size: int) -> tuple[bytes, bytes]:
    """Bytes of ``size`` made of a marker nobody else writes, and the marker."""
    marker = f"plaintext-marker-{uuid.uuid4().hex}".encode()
    return (marker * (size // len(marker) + 1))[:size], marker


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


def test_new_objects_are_sse_s3_by_default(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert put["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in put
    for response in (s3.get_object(Bucket=bucket, Key="k"), s3.head_object(Bucket=bucket, Key="k")):
        assert response["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_no_plaintext_in_blob_files_or_sqlite(server: ServerProcess, s3: Any, bucket: str) -> None:
    small, small_marker = marker_data(1000)
    large, large_marker = marker_data(3 * CHUNK + 123)
    part, part_marker = marker_data(PART)
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu")
    etag = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], PartNumber=1, Body=part)[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mpu",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "large"})
    for marker in (small_marker, large_marker, part_marker):
        assert files_containing(server.data_dir, marker) == []
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == large
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == large
    assert s3.get_object(Bucket=bucket, Key="mpu")["Body"].read() == part


@pytest.mark.parametrize(
    ("first", "last"),
    [(0, 0), (CHUNK - 1, CHUNK), (CHUNK, 2 * CHUNK - 1), (10, 3 * CHUNK + 5), (3 * CHUNK, 3 * CHUNK + 99)],
)
def test_ranges_of_a_sealed_object(s3: Any, bucket: str, first: int, last: int) -> None:
    data = os.urandom(3 * CHUNK + 100)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={first}-{last}")
    assert got["Body"].read() == data[first : last + 1]
    assert got["ContentRange"] == f"bytes {first}-{last}/{len(data)}"


def test_ranges_across_read_batches_of_a_sealed_blob(s3: Any, bucket: str) -> None:
    """A sealed blob is read and opened a megabyte at a time: ranges across those batches."""
    mib = 1024 * 1024
    data = os.urandom(2 * mib + 3 * CHUNK + 7)
    s3.put_object(Bucket=bucket, Key="b", Body=data)
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == data
    for first, last in (
        (mib - 5, mib + 5),
        (CHUNK + 1, 2 * mib + 1),
        (mib, 2 * mib - 1),
        (2 * mib + 3, len(data) - 1),
    ):
        got = s3.get_object(Bucket=bucket, Key="b", Range=f"bytes={first}-{last}")
        assert got["Body"].read() == data[first : last + 1], (first, last)


def test_ranges_across_sealed_parts(s3: Any, bucket: str) -> None:
    parts = [os.urandom(PART), os.urandom(1000)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert upload["ServerSideEncryption"] == "AES256"
    etags = []
    for number, body in enumerate(parts, 1):
        result = s3.upload_part(
            Bucket=bucket, Key="m", UploadId=upload["UploadId"], PartNumber=number, Body=body
        )
        assert result["ServerSideEncryption"] == "AES256"
        etags.append({"PartNumber": number, "ETag": result["ETag"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="m", UploadId=upload["UploadId"], MultipartUpload={"Parts": etags}
    )
    assert done["ServerSideEncryption"] == "AES256"
    data = b"".join(parts)
    got = s3.get_object(Bucket=bucket, Key="m", Range=f"bytes={PART - 70000}-{PART + 10}")
    assert got["Body"].read() == data[PART - 70000 : PART + 11]
    assert s3.get_object(Bucket=bucket, Key="m", PartNumber=2)["Body"].read() == parts[1]


def test_sse_kms_records_and_returns_the_key(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"x", ServerSideEncryption="aws:kms")
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == KMS_DEFAULT
    key_arn = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    put = s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"y",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
        BucketKeyEnabled=True,
    )
    assert (put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == (key_arn, True)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == (
        "aws:kms",
        key_arn,
        True,
    )
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"y"
    dsse = s3.put_object(
        Bucket=bucket, Key="s", Body=b"z", ServerSideEncryption="aws:kms:dsse", SSEKMSKeyId="alias/mine"
    )
    assert dsse["SSEKMSKeyId"] == "arn:aws:kms:us-east-1:000000000000:alias/mine"


def test_sse_header_errors(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId="alias/x")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES512")
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_bucket_default_encryption(s3: Any, bucket: str) -> None:
    default = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert default == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
    ]
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/team",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/team",
    }
    assert rules[0]["BucketKeyEnabled"] is True
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == "arn:aws:kms:us-east-1:000000000000:alias/team"
    assert put["BucketKeyEnabled"] is True
    assert s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="AES256")[
        "ServerSideEncryption"
    ] == ("AES256")
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == default


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], "MalformedXML"),
        (
            [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}],
            "InvalidArgument",
        ),
        ([{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}], "MalformedXML"),
        ([{"BucketKeyEnabled": True}], "MalformedXML"),
    ],
)
def test_put_bucket_encryption_validation(
    s3: Any, bucket: str, rules: list[dict[str, Any]], code: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    assert error_of(excinfo) == (code, 400)


def test_bucket_encryption_of_missing_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_encryption(Bucket=f"missing-{uuid.uuid4().hex[:10]}")
    assert error_of(excinfo) == ("NoSuchBucket", 404)


def test_copy_changes_encryption_in_place(s3: Any, bucket: str) -> None:
    data = os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    copied = s3.copy_object(
        Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, ServerSideEncryption="aws:kms"
    )
    assert copied["ServerSideEncryption"] == "aws:kms"
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data
