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


def _walk(s3: Any, bucket: str, between: Any = None, **kwargs: Any) -> list[str]:
    """Every key of a ListObjectsV2 walk, two keys a page; ``between(page_number)`` runs
    between pages (after the server has started reading the next one ahead)."""
    keys: list[str] = []
    token: dict[str, str] = {}
    page_number = 0
    while True:
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, **kwargs, **token)
        keys += [entry["Key"] for entry in page.get("Contents", [])]
        keys += [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            return keys
        token = {"ContinuationToken": page["NextContinuationToken"]}
        page_number += 1
        if between is not None:
            between(page_number)


def test_pages_read_ahead_show_changes_made_between_pages(s3: Any, bucket: str) -> None:
    for name in ("a", "c", "e", "g"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"1")
    assert _walk(s3, bucket) == ["a", "c", "e", "g"]
    assert _walk(s3, bucket) == ["a", "c", "e", "g"], "the same walk again, from kept pages"

    def change(page_number: int) -> None:
        if page_number == 1:
            s3.put_object(Bucket=bucket, Key="d", Body=b"1")
            s3.delete_object(Bucket=bucket, Key="g")

    assert _walk(s3, bucket, change) == ["a", "c", "d", "e"]
    assert _walk(s3, bucket) == ["a", "c", "d", "e"]


def test_sizes_and_etags_changed_between_pages_are_listed(s3: Any, bucket: str) -> None:
    for name in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"1")
    s3.list_objects_v2(Bucket=bucket, MaxKeys=2)  # the page after it is now read ahead
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"four")["ETag"]
    last = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, StartAfter="b")["Contents"]
    assert [(entry["Key"], entry["Size"], entry["ETag"]) for entry in last] == [("c", 4, etag)]


def test_delimited_pages_read_ahead_show_changes(s3: Any, bucket: str) -> None:
    for name in ("a/1", "a/2", "b", "c/1", "d"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"1")
    assert _walk(s3, bucket, Delimiter="/") == ["b", "a/", "d", "c/"]

    def change(page_number: int) -> None:
        if page_number == 1:
            s3.delete_object(Bucket=bucket, Key="d")
            s3.put_object(Bucket=bucket, Key="e/1", Body=b"1")

    assert sorted(_walk(s3, bucket, change, Delimiter="/")) == ["a/", "b", "c/", "e/"]


def _walk_versions(s3: Any, bucket: str, between: Any = None) -> list[tuple[str, bool]]:
    """(key, is latest) of every version and delete marker of a ListObjectVersions walk, two a
    page; ``between(page_number)`` runs between pages."""
    seen: list[tuple[str, bool]] = []
    markers: dict[str, str] = {}
    page_number = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=2, **markers)
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        seen += sorted((entry["Key"], entry["IsLatest"]) for entry in entries)
        if not page["IsTruncated"]:
            return seen
        markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
        page_number += 1
        if between is not None:
            between(page_number)


def test_version_pages_read_ahead_show_changes_made_between_pages(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for name in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"1")
    assert _walk_versions(s3, bucket) == [("a", True), ("b", True), ("c", True), ("d", True)]

    def change(page_number: int) -> None:
        if page_number == 1:
            s3.put_object(Bucket=bucket, Key="c", Body=b"2")
            s3.delete_object(Bucket=bucket, Key="d")

    assert _walk_versions(s3, bucket, change) == [
        ("a", True),
        ("b", True),
        ("c", False),
        ("c", True),
        ("d", False),
        ("d", True),
    ]
