"""CopyObject (directives, conditionals, onto itself) and the tagging APIs."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique


@pytest.mark.parametrize("size", [10, 300 * 1024])
def test_copy_to_other_bucket_keeps_metadata(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    put = s3.put_object(
        Bucket=bucket, Key="src", Body=data, Metadata={"m": "1"}, ContentType="text/x", Tagging="t=1"
    )
    other = unique("dst")
    s3.create_bucket(Bucket=other)
    result = s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert result["CopyObjectResult"]["ETag"] == put["ETag"]
    got = s3.get_object(Bucket=other, Key="dst")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/x"
    assert s3.get_object_tagging(Bucket=other, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]


def test_copy_replace_metadata_and_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"abc", Metadata={"old": "1"}, Tagging="t=1")
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"new": "2"},
        ContentType="text/new",
        TaggingDirective="REPLACE",
        Tagging="u=2",
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"new": "2"} and head["ContentType"] == "text/new"
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "u", "Value": "2"}]


@pytest.mark.parametrize("size", [10, 300 * 1024])
def test_copy_onto_itself(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="k", Body=data, Metadata={"v": "1"})
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(excinfo) == ("InvalidRequest", 400)
    s3.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Metadata"] == {"v": "2"} and got["Body"].read() == data
    s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k", StorageClass="GLACIER_IR")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "GLACIER_IR"


def test_copy_conditionals_and_errors(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"abc")
    source = {"Bucket": bucket, "Key": "src"}
    past = datetime.now(UTC) - timedelta(days=1)
    future = datetime.now(UTC) + timedelta(days=1)
    s3.copy_object(Bucket=bucket, Key="a", CopySource=source, CopySourceIfMatch=put["ETag"])
    for kwargs in (
        {"CopySourceIfMatch": '"nope"'},
        {"CopySourceIfNoneMatch": put["ETag"]},
        {"CopySourceIfUnmodifiedSince": past},
        {"CopySourceIfModifiedSince": future},
    ):
        with pytest.raises(ClientError) as excinfo:
            s3.copy_object(Bucket=bucket, Key="b", CopySource=source, **kwargs)
        assert error_of(excinfo) == ("PreconditionFailed", 412), kwargs
    s3.copy_object(
        Bucket=bucket,
        Key="c",
        CopySource=source,
        CopySourceIfMatch=put["ETag"],
        CopySourceIfUnmodifiedSince=past,
    )
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(excinfo) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": unique("none"), "Key": "src"})
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="d", CopySource=source, MetadataDirective="MOVE")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="a", CopySource=source, IfNoneMatch="*")
    assert error_of(excinfo) == ("PreconditionFailed", 412)


def test_object_tagging_api(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "a", "Value": "b"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(
            Bucket=bucket,
            Key="k",
            Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
        )
    assert error_of(excinfo) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "1"}]})
    assert error_of(excinfo) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_bucket_tagging_api(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchTagSet", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}
        )
    assert error_of(excinfo) == ("InvalidTag", 400)
