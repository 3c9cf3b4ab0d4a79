"""Multipart uploads: completion as a manifest, ETags, checksums, ranges, errors, listings."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of

MIB = 1024 * 1024


def _upload(
    s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any
) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    # Parts carry the upload's algorithm, as S3 requires (without it, boto3 would send CRC32).
    algorithm = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
    for number, data in enumerate(parts, start=1):
        result = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **algorithm
        )
        entry = {"PartNumber": number, "ETag": result["ETag"]}
        entry.update({k: v for k, v in result.items() if k.startswith("Checksum")})
        done.append(entry)
    return upload_id, done


def _multipart_etag(parts: list[bytes]) -> str:
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"'


def test_complete_and_read_across_parts(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(123)]
    whole = b"".join(parts)
    upload_id, done = _upload(s3, bucket, "big", parts, ContentType="video/x", Metadata={"a": "b"})
    result = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert result["ETag"] == _multipart_etag(parts)
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["ContentLength"] == len(whole)
    assert got["ContentType"] == "video/x" and got["Metadata"] == {"a": "b"}
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(whole).digest()
    start = 5 * MIB - 10
    ranged = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={start}-{start + 5 * MIB + 20}")
    assert ranged["Body"].read() == whole[start : start + 5 * MIB + 21]
    assert s3.get_object(Bucket=bucket, Key="big", Range="bytes=-50")["Body"].read() == whole[-50:]
    second = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert second["PartsCount"] == 3
    assert second["ContentRange"] == f"bytes {5 * MIB}-{10 * MIB - 1}/{len(whole)}"
    assert second["Body"].read() == parts[1]
    assert s3.head_object(Bucket=bucket, Key="big", PartNumber=3)["ContentLength"] == 123
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="big", PartNumber=4)
    assert error_of(excinfo) == ("InvalidPartNumber", 416)
    # The upload is gone after completion.
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id)
    assert error_of(excinfo) == ("NoSuchUpload", 404)


def _crc(name: str, data: bytes) -> bytes:
    width = 8 if name == "crc64nvme" else 4
    return getattr(crt, name)(data).to_bytes(width, "big")


def test_checksums_composite_and_full_object(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    upload_id, done = _upload(s3, bucket, "c", parts, ChecksumAlgorithm="CRC32C")
    assert all("ChecksumCRC32C" in entry for entry in done)
    result = s3.complete_multipart_upload(
        Bucket=bucket, Key="c", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    raw = b"".join(_crc("crc32c", p) for p in parts)
    expected = f"{base64.b64encode(_crc('crc32c', raw)).decode()}-2"
    assert result["ChecksumCRC32C"] == expected and result["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == expected and head["ChecksumType"] == "COMPOSITE"

    upload_id, done = _upload(s3, bucket, "f", parts, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    result = s3.complete_multipart_upload(
        Bucket=bucket, Key="f", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    whole = base64.b64encode(_crc("crc32", b"".join(parts))).decode()
    assert result["ChecksumCRC32"] == whole and result["ChecksumType"] == "FULL_OBJECT"

    upload_id, done = _upload(s3, bucket, "d", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="d", UploadId=upload_id, MultipartUpload={"Parts": done})
    head = s3.head_object(Bucket=bucket, Key="d", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == base64.b64encode(_crc("crc64nvme", b"".join(parts))).decode()
    with pytest.raises(ClientError) as excinfo:
        s3.create_multipart_upload(
            Bucket=bucket, Key="x", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"
        )
    assert error_of(excinfo) == ("InvalidRequest", 400)


def test_completion_errors(s3: Any, bucket: str) -> None:
    upload_id, done = _upload(s3, bucket, "k", [b"a" * 100, b"b" * 100])
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    assert error_of(excinfo) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done[::-1]}
        )
    assert error_of(excinfo) == ("InvalidPartOrder", 400)
    bad = [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": bad}
        )
    assert error_of(excinfo) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": "x"}]},
        )
    assert error_of(excinfo) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b"x")
    assert error_of(excinfo) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_of(excinfo) == ("NoSuchUpload", 404)
    # A single small part is fine: only non-final parts have a minimum size.
    result = s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done[:1]}
    )
    assert result["ETag"] == _multipart_etag([b"a" * 100])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"a" * 100


def test_conditional_completion(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"exists")
    upload_id, done = _upload(s3, bucket, "k", [b"new"])
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done}, IfNoneMatch="*"
        )
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"exists"
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"


def test_abort_list_parts_and_uploads(s3: Any, bucket: str) -> None:
    upload_id, done = _upload(s3, bucket, "dir/k", [b"1", b"2", b"3"])
    page = s3.list_parts(Bucket=bucket, Key="dir/k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2] and page["IsTruncated"]
    rest = s3.list_parts(
        Bucket=bucket, Key="dir/k", UploadId=upload_id, PartNumberMarker=page["NextPartNumberMarker"]
    )
    assert [p["PartNumber"] for p in rest["Parts"]] == [3] and not rest["IsTruncated"]
    other = s3.create_multipart_upload(Bucket=bucket, Key="top")["UploadId"]
    again = s3.create_multipart_upload(Bucket=bucket, Key="top")["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert sorted(u["Key"] for u in listed["Uploads"]) == ["dir/k", "top", "top"]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert grouped["CommonPrefixes"] == [{"Prefix": "dir/"}]
    assert sorted(u["UploadId"] for u in grouped["Uploads"]) == sorted([other, again])
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert first["IsTruncated"]
    second = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker=first["NextKeyMarker"], UploadIdMarker=first["NextUploadIdMarker"]
    )
    seen = [u["UploadId"] for u in first["Uploads"] + second["Uploads"]]
    assert sorted(seen) == sorted([upload_id, other, again])
    s3.abort_multipart_upload(Bucket=bucket, Key="dir/k", UploadId=upload_id)
    with pytest.raises(ClientError) as excinfo:
        s3.abort_multipart_upload(Bucket=bucket, Key="dir/k", UploadId=upload_id)
    assert error_of(excinfo) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="dir/k", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    assert error_of(excinfo) == ("NoSuchUpload", 404)


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=2,
        CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}",
    )["CopyPartResult"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
        },
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source
    for bad in ("bytes=5-", "bytes=10-2", f"bytes=0-{6 * MIB}"):
        with pytest.raises(ClientError) as excinfo:
            s3.upload_part_copy(
                Bucket=bucket,
                Key="dst",
                UploadId=s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"],
                PartNumber=1,
                CopySource=f"{bucket}/src",
                CopySourceRange=bad,
            )
        assert error_of(excinfo) == ("InvalidArgument", 400), bad


def test_copy_of_multipart_object_and_overwrite(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), b"tail"]
    upload_id, done = _upload(s3, bucket, "m", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload_id, MultipartUpload={"Parts": done})
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/m")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"".join(parts)
    s3.copy_object(
        Bucket=bucket, Key="m", CopySource=f"{bucket}/m", MetadataDirective="REPLACE", Metadata={"x": "y"}
    )
    got = s3.get_object(Bucket=bucket, Key="m")
    assert got["Metadata"] == {"x": "y"} and got["ETag"] == _multipart_etag(parts)
    assert got["Body"].read() == b"".join(parts)
    s3.put_object(Bucket=bucket, Key="m", Body=b"small now")
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"small now"
