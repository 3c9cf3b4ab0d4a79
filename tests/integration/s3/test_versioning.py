"""S3 versioning through boto3: bucket state, version ids, reads and deletes by version, delete
markers, the null version under Suspended, copies and multipart uploads of versions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique

PART = b"p" * (5 * 1024 * 1024)


@pytest.fixture
def vbucket(s3: Any) -> str:
    name = unique("ver")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def put(s3: Any, bucket: str, key: str, body: bytes) -> str:
    return str(s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])


def test_bucket_versioning_state(s3: Any, bucket: str) -> None:
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in got and "MFADelete" not in got
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"}
    )
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Enabled" and got["MFADelete"] == "Disabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Suspended" and got["MFADelete"] == "Disabled"
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Off"})
    assert error_of(excinfo) == ("MalformedXML", 400)


def test_versions_are_kept_and_readable_by_id(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    second = put(s3, vbucket, "k", b"two")
    assert first != second and len(first) == 32
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == second
    old = s3.get_object(Bucket=vbucket, Key="k", VersionId=first)
    assert old["Body"].read() == b"one" and old["VersionId"] == first
    head = s3.head_object(Bucket=vbucket, Key="k", VersionId=first)
    assert head["ContentLength"] == 3 and head["VersionId"] == first
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["k"]


def test_unknown_and_malformed_version_ids(s3: Any, vbucket: str) -> None:
    put(s3, vbucket, "k", b"one")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="A" * 32)
    assert error_of(excinfo) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="not-a-version")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="null")
    assert error_of(excinfo) == ("NoSuchVersion", 404)


def test_delete_marker_hides_the_object(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    deleted = s3.delete_object(Bucket=vbucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    assert marker != first
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k")
    assert error_of(excinfo) == ("NoSuchKey", 404)
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=vbucket, Key="k")
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert error_of(excinfo) == ("MethodNotAllowed", 405)
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=first)["Body"].read() == b"one"
    # Removing the marker brings the object back.
    removed = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"


def test_delete_a_version_for_good(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    second = put(s3, vbucket, "k", b"two")
    gone = s3.delete_object(Bucket=vbucket, Key="k", VersionId=second)
    assert gone["VersionId"] == second and "DeleteMarker" not in gone
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"one" and got["VersionId"] == first
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=second)
    assert error_of(excinfo) == ("NoSuchVersion", 404)
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=first)
    assert s3.list_object_versions(Bucket=vbucket).get("Versions") is None
    s3.delete_bucket(Bucket=vbucket)


def test_bucket_with_versions_is_not_empty(s3: Any, vbucket: str) -> None:
    put(s3, vbucket, "k", b"one")
    s3.delete_object(Bucket=vbucket, Key="k")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=vbucket)
    assert error_of(excinfo) == ("BucketNotEmpty", 409)


def test_suspended_writes_the_null_version(s3: Any, vbucket: str) -> None:
    kept = put(s3, vbucket, "k", b"kept")
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    assert put(s3, vbucket, "k", b"null-1") == "null"
    assert put(s3, vbucket, "k", b"null-2") == "null"
    listed = s3.list_object_versions(Bucket=vbucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in listed] == [("null", True), (kept, False)]
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    deleted = s3.delete_object(Bucket=vbucket, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=vbucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [(kept, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [("null", True)]


def test_objects_from_before_versioning_are_the_null_version(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    new = put(s3, bucket, "k", b"new")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [new, "null"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"old"
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == new


def test_copy_from_a_version_restores_it(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    put(s3, vbucket, "k", b"two")
    copied = s3.copy_object(
        Bucket=vbucket, Key="k", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": first}
    )
    assert copied["CopySourceVersionId"] == first
    assert copied["VersionId"] not in (first, "null")
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"
    assert len(s3.list_object_versions(Bucket=vbucket)["Versions"]) == 3
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket=vbucket, Key="c", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": marker}
        )
    assert error_of(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=vbucket, Key="c", CopySource={"Bucket": vbucket, "Key": "k"})
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_self_copy_in_a_versioned_bucket_keeps_both_versions_readable(s3: Any, vbucket: str) -> None:
    body = b"x" * (128 * 1024)  # a blob, not inline
    first = put(s3, vbucket, "k", body)
    copied = s3.copy_object(
        Bucket=vbucket, Key="k", CopySource={"Bucket": vbucket, "Key": "k"}, MetadataDirective="REPLACE"
    )
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=first)
    got = s3.get_object(Bucket=vbucket, Key="k", VersionId=copied["VersionId"])
    assert got["Body"].read() == body


def test_multipart_upload_creates_a_version(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"small")
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="k")["UploadId"]
    part = s3.upload_part(Bucket=vbucket, Key="k", UploadId=upload, PartNumber=1, Body=PART)
    copied = s3.upload_part_copy(
        Bucket=vbucket,
        Key="k",
        UploadId=upload,
        PartNumber=2,
        CopySource={"Bucket": vbucket, "Key": "k", "VersionId": first},
    )
    assert copied["CopySourceVersionId"] == first
    done = s3.complete_multipart_upload(
        Bucket=vbucket,
        Key="k",
        UploadId=upload,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": part["ETag"]},
                {"PartNumber": 2, "ETag": copied["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert done["VersionId"] not in (first, "null")
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == PART + b"small"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=first)["Body"].read() == b"small"


def test_tagging_by_version(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    second = put(s3, vbucket, "k", b"two")
    out = s3.put_object_tagging(
        Bucket=vbucket, Key="k", VersionId=first, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]}
    )
    assert out["VersionId"] == first
    assert s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=first)["TagSet"] == [
        {"Key": "a", "Value": "1"}
    ]
    current = s3.get_object_tagging(Bucket=vbucket, Key="k")
    assert current["TagSet"] == [] and current["VersionId"] == second
    s3.delete_object_tagging(Bucket=vbucket, Key="k", VersionId=first)
    assert s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=first)["TagSet"] == []


def test_delete_objects_with_versions(s3: Any, vbucket: str) -> None:
    a1 = put(s3, vbucket, "a", b"1")
    put(s3, vbucket, "b", b"1")
    result = s3.delete_objects(
        Bucket=vbucket,
        Delete={"Objects": [{"Key": "a", "VersionId": a1}, {"Key": "b"}, {"Key": "c", "VersionId": "bad"}]},
    )
    deleted = {d["Key"]: d for d in result["Deleted"]}
    assert deleted["a"] == {"Key": "a", "VersionId": a1}
    assert deleted["b"]["DeleteMarker"] is True and len(deleted["b"]["DeleteMarkerVersionId"]) == 32
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("c", "InvalidArgument")]
    marker = deleted["b"]["DeleteMarkerVersionId"]
    again = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert again["Deleted"] == [
        {"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}
    ]
    assert s3.get_object(Bucket=vbucket, Key="b")["Body"].read() == b"1"


def test_unversioned_bucket_null_version_requests(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"x"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId="B" * 32)
    assert error_of(excinfo) == ("NoSuchVersion", 404)
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_browser_post_adds_a_version(s3: Any, vbucket: str) -> None:
    from tests.integration.s3.test_post_cors import _post

    first = put(s3, vbucket, "k", b"one")
    presigned = s3.generate_presigned_post(vbucket, "k")
    response = _post(presigned["url"], presigned["fields"], b"posted")
    assert response.status_code == 204, response.text
    versions = s3.list_object_versions(Bucket=vbucket)["Versions"]
    assert [v["VersionId"] == first for v in versions] == [False, True]
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"posted"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=first)["Body"].read() == b"one"


def test_object_attributes_by_version(s3: Any, vbucket: str) -> None:
    first = put(s3, vbucket, "k", b"one")
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="k")["UploadId"]
    etags = [
        s3.upload_part(Bucket=vbucket, Key="k", UploadId=upload, PartNumber=n, Body=body)["ETag"]
        for n, body in ((1, PART), (2, b"tail"))
    ]
    s3.complete_multipart_upload(
        Bucket=vbucket,
        Key="k",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
    )
    wanted = ["ETag", "ObjectSize", "StorageClass", "ObjectParts", "Checksum"]
    old = s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId=first, ObjectAttributes=wanted)
    assert old["VersionId"] == first and old["ObjectSize"] == 3 and old["StorageClass"] == "STANDARD"
    assert "ObjectParts" not in old and old["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    current = s3.get_object_attributes(Bucket=vbucket, Key="k", ObjectAttributes=wanted, MaxParts=1)
    assert current["ObjectSize"] == len(PART) + 4 and current["ETag"].endswith("-2")
    parts = current["ObjectParts"]
    assert parts["TotalPartsCount"] == 2 and parts["IsTruncated"] is True
    assert parts["Parts"] == [{"PartNumber": 1, "Size": len(PART)}]
    s3.delete_object(Bucket=vbucket, Key="k")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_attributes(Bucket=vbucket, Key="k", ObjectAttributes=["ETag"])
    assert error_of(excinfo) == ("NoSuchKey", 404)
