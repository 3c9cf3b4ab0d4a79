"""Object operations through boto3: conditionals, attributes, tags on PUT, DeleteObjects."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of


def test_conditional_get_precedence(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    etag = put["ETag"]
    past = datetime.now(UTC) - timedelta(days=1)
    future = datetime.now(UTC) + timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    # If-Match holds, so the failing If-Unmodified-Since is not consulted.
    s3.get_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=past)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past)
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert error_of(excinfo)[1] == 304
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=future)
    assert error_of(excinfo)[1] == 304
    # If-None-Match does not match, so If-Modified-Since is not consulted.
    s3.get_object(Bucket=bucket, Key="k", IfNoneMatch='"other"', IfModifiedSince=future)
    s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=past)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k", IfMatch='"nope"')
    assert error_of(excinfo) == ("412", 412)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert error_of(excinfo)[1] == 304


def test_conditional_writes(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"abc"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=first["ETag"])
    assert error_of(excinfo) == ("NoSuchKey", 404)
    big = b"b" * (200 * 1024)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=big, IfNoneMatch="*")
    assert error_of(excinfo) == ("PreconditionFailed", 412)


def test_racing_creators_exactly_one_wins(client_factory: Any, bucket: str) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def create(n: int) -> None:
        client = client_factory("s3")
        try:
            client.put_object(Bucket=bucket, Key="race", Body=f"writer {n}".encode() * 1000, IfNoneMatch="*")
            outcome = "won"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["PreconditionFailed"] * 7 + ["won"]


def test_attributes_round_trip(s3: Any, bucket: str) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"x",
        ContentType="text/plain",
        ContentEncoding="identity",
        ContentDisposition="attachment",
        ContentLanguage="ja",
        CacheControl="max-age=60",
        Expires=expires,
        StorageClass="STANDARD_IA",
        Tagging="a=1&b=two",
    )
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ContentType"] == "text/plain"
    assert head["ContentDisposition"] == "attachment"
    assert head["ContentLanguage"] == "ja"
    assert head["CacheControl"] == "max-age=60"
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    got = s3.get_object(
        Bucket=bucket,
        Key="k",
        ResponseContentType="image/png",
        ResponseCacheControl="no-cache",
        ResponseContentDisposition="inline",
    )
    assert got["ContentType"] == "image/png"
    assert got["CacheControl"] == "no-cache"
    assert got["ContentDisposition"] == "inline"
    assert got["TagCount"] == 2
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"a": "1", "b": "two"}
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["StorageClass"] == "STANDARD_IA"


def test_bad_attributes(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"big": "v" * 2100})
    assert error_of(excinfo) == ("MetadataTooLarge", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="NOPE")
    assert error_of(excinfo) == ("InvalidStorageClass", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="&".join(f"k{i}=v" for i in range(11)))
    assert error_of(excinfo) == ("BadRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="aws:x=1")
    assert error_of(excinfo) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="nope", PartNumber=1)
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_part_number_get_of_plain_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="k", PartNumber=1)["Body"].read() == b"hello"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
    assert error_of(excinfo) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-1")
    assert error_of(excinfo) == ("InvalidRequest", 400)


def test_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c/d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "c/d"}, {"Key": "missing"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "c/d", "missing"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert error_of(excinfo) == ("MalformedXML", 400)


def test_delete_object_if_match(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch='"other"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=put["ETag"])
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(excinfo) == ("404", 404)


def test_listing_details(s3: Any, bucket: str) -> None:
    keys = ["a b", "a+b", "dir/x", "dir/y", "z%"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    encoded = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert [o["Key"] for o in encoded["Contents"]] == ["a+b", "a%2Bb", "z%25"]
    assert encoded["CommonPrefixes"] == [{"Prefix": "dir/"}]
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True, StartAfter="a+b")
    assert [o["Key"] for o in owned["Contents"]] == ["dir/x", "dir/y", "z%"]
    assert "ID" in owned["Contents"][0]["Owner"]
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    page = s3.list_objects(Bucket=bucket, MaxKeys=2, Delimiter="/")
    assert page["IsTruncated"] and page["NextMarker"] == "a+b"
    rest = s3.list_objects(Bucket=bucket, Marker=page["NextMarker"], Delimiter="/")
    assert [o["Key"] for o in rest["Contents"]] == ["z%"]
    assert rest["CommonPrefixes"] == [{"Prefix": "dir/"}]
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="!!!")
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_list_buckets_params(s3: Any) -> None:
    names = [f"lbp-{i}-{datetime.now(UTC).strftime('%H%M%S%f')}" for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(Prefix="lbp-", MaxBuckets=1)
    assert len(first["Buckets"]) == 1 and "ContinuationToken" in first
    assert first["Prefix"] == "lbp-"
    rest = s3.list_buckets(Prefix="lbp-", ContinuationToken=first["ContinuationToken"])
    assert first["Buckets"][0]["Name"] not in [b["Name"] for b in rest["Buckets"]]
    assert all(b["BucketRegion"] == "us-east-1" for b in rest["Buckets"])
    with pytest.raises(ClientError) as excinfo:
        s3.list_buckets(MaxBuckets=10001)
    assert error_of(excinfo) == ("InvalidArgument", 400)
