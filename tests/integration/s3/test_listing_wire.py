"""ListObjectsV2 and ListObjects on the wire: the elements S3 sends, in S3's order, with each
object's checksum algorithm and type, and owners only where S3 shows them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tests.support.raw import signed_send
from tests.support.server import ServerProcess

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _document(server: ServerProcess, path: str) -> ET.Element:
    response = signed_send(server.endpoint, "GET", path, service="s3")
    assert response.status == 200, response.body
    return ET.fromstring(response.body)


def _tags(element: ET.Element) -> list[str]:
    return [child.tag.removeprefix(NS) for child in element]


def test_list_objects_v2_elements_in_s3_order(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=bucket, Key="b/c", Body=b"y")
    first = _document(server, f"/{bucket}?list-type=2&max-keys=1&delimiter=%2F&start-after=%20")
    assert _tags(first) == [
        "Name",
        "Prefix",
        "StartAfter",
        "NextContinuationToken",
        "KeyCount",
        "MaxKeys",
        "Delimiter",
        "IsTruncated",
        "Contents",
    ]
    contents = first.find(f"{NS}Contents")
    assert contents is not None
    assert _tags(contents) == [
        "Key",
        "LastModified",
        "ETag",
        "ChecksumAlgorithm",
        "ChecksumType",
        "Size",
        "StorageClass",
    ]
    assert [child.text for child in contents][3:] == ["SHA256", "FULL_OBJECT", "1", "STANDARD"]
    token = first.findtext(f"{NS}NextContinuationToken")
    rest = _document(
        server, f"/{bucket}?list-type=2&delimiter=%2F&fetch-owner=true&continuation-token={token}"
    )
    assert _tags(rest) == [
        "Name",
        "Prefix",
        "ContinuationToken",
        "KeyCount",
        "MaxKeys",
        "Delimiter",
        "IsTruncated",
        "CommonPrefixes",
    ]
    owned = _document(server, f"/{bucket}?list-type=2&fetch-owner=true")
    entries = owned.findall(f"{NS}Contents")
    assert [_tags(entry)[-2:] for entry in entries] == [["StorageClass", "Owner"]] * 2
    assert [entry.findtext(f"{NS}ChecksumAlgorithm") for entry in entries] == ["SHA256", "CRC32"]


def test_listings_show_each_objects_checksum_type(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x", ChecksumAlgorithm="CRC32C")
    for key, kind in (("composite", "COMPOSITE"), ("whole", "FULL_OBJECT")):
        upload = s3.create_multipart_upload(
            Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", ChecksumType=kind
        )["UploadId"]
        part = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"part", ChecksumAlgorithm="CRC32"
        )
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}]
            },
        )
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "plain"})
    expected = {
        "composite": (["CRC32"], "COMPOSITE"),
        "copy": (["CRC32C"], "FULL_OBJECT"),
        "plain": (["CRC32C"], "FULL_OBJECT"),
        "whole": (["CRC32"], "FULL_OBJECT"),
    }
    for listed in (s3.list_objects_v2(Bucket=bucket)["Contents"], s3.list_objects(Bucket=bucket)["Contents"]):
        assert {o["Key"]: (o["ChecksumAlgorithm"], o["ChecksumType"]) for o in listed} == expected
    head = s3.head_object(Bucket=bucket, Key="composite", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "COMPOSITE"


def test_version_listings_keep_each_versions_checksums(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"old", ChecksumAlgorithm="SHA1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"new", ChecksumAlgorithm="CRC32C")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["IsLatest"], v["ChecksumAlgorithm"], v["ChecksumType"]) for v in versions] == [
        (True, ["CRC32C"], "FULL_OBJECT"),
        (False, ["SHA1"], "FULL_OBJECT"),
    ]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=versions[0]["VersionId"])
    [current] = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert (current["ChecksumAlgorithm"], current["ChecksumType"]) == (["SHA1"], "FULL_OBJECT")
