"""Reads served from the metadata store's read cache are never stale: every acknowledged change is
seen by the next request, from this client or another one, while concurrent readers hammer the
same keys (so the cache is warm and concurrent misses share their reads)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique


def test_every_acknowledged_change_is_read_back(s3: Any, bucket: str) -> None:
    for round_ in range(20):
        body = f"version {round_}".encode()
        s3.put_object(Bucket=bucket, Key="k", Body=body)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
        assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == len(body)
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(excinfo) == ("NoSuchKey", 404)
    s3.put_object(Bucket=bucket, Key="k", Body=b"back")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"back"


def test_metadata_and_bucket_changes_are_read_back(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"a": "1"})
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        Metadata={"a": "2"},
        MetadataDirective="REPLACE",
    )
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "2"}
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(excinfo)[1] == 404
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"again")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"again"


def test_writes_are_seen_by_other_clients_while_readers_hammer_the_key(client_factory: Any, s3: Any) -> None:
    bucket = unique("bkt")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hot", Body=b"0")
    stop = threading.Event()
    errors: list[BaseException] = []

    def hammer() -> None:
        reader = client_factory("s3")
        try:
            for _ in range(500):  # bounded: the writer below needs far fewer rounds
                if stop.is_set():
                    return
                reader.get_object(Bucket=bucket, Key="hot")["Body"].read()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        other = client_factory("s3")
        for value in range(1, 30):
            s3.put_object(Bucket=bucket, Key="hot", Body=str(value).encode())
            assert other.get_object(Bucket=bucket, Key="hot")["Body"].read() == str(value).encode()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not errors
