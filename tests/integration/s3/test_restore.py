"""Archive tiers and RestoreObject through the front door: archived objects refuse reads until a
restore (timed by the test clock) makes a temporary copy, which expires; the archived bytes round-
trip exactly (plain, multipart, ranges, SSE-S3 and SSE-C), stay sealed on disk, and a pending
restore survives a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique
from tests.integration.s3.lifecycle_fixtures import (
    DAY,
    ShiftedClock,
    blob_path,
    clock,
    event_queue,
    lifecycle_server,
    object_row,
    received_events,
    s3,
)
from tests.support.server import ServerProcess, running_server

__all__ = ["clock", "lifecycle_server", "s3"]

PART = 5 * 1024 * 1024
#: AWS's Standard tier for GLACIER (5 hours) at the default speed-up (an AWS minute is a second).
STANDARD_SECONDS = 300
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("rs")
    s3.create_bucket(Bucket=name)
    return name


def _restore(s3: Any, bucket: str, key: str, days: int = 1, tier: str = "Standard", **extra: Any) -> int:
    response = s3.restore_object(
        Bucket=bucket, Key=key, RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}}, **extra
    )
    status: int = response["ResponseMetadata"]["HTTPStatusCode"]
    return status


def _refused(s3: Any, bucket: str, key: str, **extra: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key=key, **extra)
    assert error_of(excinfo) == ("InvalidObjectState", 403)


def test_restore_lifecycle_of_a_glacier_object(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="k", Body=data, StorageClass="GLACIER")
    _refused(s3, bucket, "k")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    assert _restore(s3, bucket, "k", days=2) == 202
    with pytest.raises(ClientError) as excinfo:
        _restore(s3, bucket, "k")
    assert error_of(excinfo) == ("RestoreAlreadyInProgress", 409)
    assert s3.head_object(Bucket=bucket, Key="k")["Restore"] == 'ongoing-request="true"'
    clock.advance(STANDARD_SECONDS - 30)
    assert clock.run_lifecycle()["restores_completed"] == 0
    _refused(s3, bucket, "k")
    clock.advance(60)
    clock.run_lifecycle()
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Restore"].startswith('ongoing-request="false", expiry-date="')
    assert head["Restore"].endswith(' 00:00:00 GMT"')
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == data
    assert got["StorageClass"] == "GLACIER" and got["Restore"] == head["Restore"]
    ranged = s3.get_object(Bucket=bucket, Key="k", Range="bytes=123-70000")["Body"].read()
    assert ranged == data[123:70001]
    # Asking again once restored moves the expiry and answers 200.
    assert _restore(s3, bucket, "k", days=5) == 200
    assert s3.head_object(Bucket=bucket, Key="k")["Restore"] != head["Restore"]
    clock.advance(6 * DAY)
    clock.run_lifecycle()
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="k")
    _refused(s3, bucket, "k")


def test_multipart_archive_round_trips_with_parts_and_ranges(
    s3: Any, bucket: str, clock: ShiftedClock
) -> None:
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(1234)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="DEEP_ARCHIVE")["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=body)["ETag"]
        for n, body in enumerate(parts, 1)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )
    _refused(s3, bucket, "mp")
    with pytest.raises(ClientError) as excinfo:
        _restore(s3, bucket, "mp", tier="Expedited")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    assert _restore(s3, bucket, "mp", tier="Bulk") == 202
    clock.advance(48 * 60 + 1)
    clock.run_lifecycle()
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["Body"].read() == parts[1] and second["PartsCount"] == 3
    span = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={PART - 10}-{2 * PART + 9}")["Body"].read()
    assert span == whole[PART - 10 : 2 * PART + 10]


def test_sse_c_object_archives_sealed_and_restores(
    s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess
) -> None:
    marker = f"plaintext-marker-{unique('m')}".encode()
    data = marker * 4000
    s3.put_object(Bucket=bucket, Key="c", Body=data, StorageClass="GLACIER", **SSE_C)
    s3.put_object(Bucket=bucket, Key="s", Body=data, StorageClass="GLACIER")
    for key in ("c", "s"):
        archive_id, attrs = object_row(lifecycle_server, bucket, key)
        assert archive_id is not None and "Archive" in attrs
        assert marker not in blob_path(lifecycle_server, archive_id).read_bytes()
        assert _restore(s3, bucket, key, tier="Expedited") == 202
    clock.advance(5 * 60 + 1)
    clock.run_lifecycle()
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="c")
    assert error_of(excinfo)[1] == 400
    assert s3.get_object(Bucket=bucket, Key="c", **SSE_C)["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="s")["Body"].read() == data


def test_restored_copy_can_be_copied_out_of_the_archive(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    data = os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="k", Body=data, StorageClass="GLACIER")
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="STANDARD"
        )
    assert error_of(excinfo) == ("InvalidObjectState", 403)
    _restore(s3, bucket, "k", tier="Expedited")
    clock.advance(301)
    clock.run_lifecycle()
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="STANDARD")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert "StorageClass" not in head and "Restore" not in head
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data


def test_restore_requests_that_are_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="hot", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        _restore(s3, bucket, "hot")
    assert error_of(excinfo) == ("InvalidObjectState", 403)
    s3.put_object(Bucket=bucket, Key="it", Body=b"x", StorageClass="INTELLIGENT_TIERING")
    with pytest.raises(ClientError) as excinfo:
        _restore(s3, bucket, "it")
    assert error_of(excinfo) == ("ObjectAlreadyInActiveTierError", 403)
    s3.put_object(Bucket=bucket, Key="ir", Body=b"x", StorageClass="GLACIER_IR")
    assert s3.get_object(Bucket=bucket, Key="ir")["Body"].read() == b"x"
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(ClientError) as excinfo:
        s3.restore_object(
            Bucket=bucket, Key="cold", RestoreRequest={"GlacierJobParameters": {"Tier": "Bulk"}}
        )
    assert error_of(excinfo) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.restore_object(
            Bucket=bucket,
            Key="cold",
            RestoreRequest={
                "Type": "SELECT",
                "SelectParameters": {
                    "InputSerialization": {"CSV": {}},
                    "ExpressionType": "SQL",
                    "Expression": "select * from s3object",
                    "OutputSerialization": {"CSV": {}},
                },
            },
        )
    assert error_of(excinfo) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as excinfo:
        _restore(s3, bucket, "missing")
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_restore_events(s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess) -> None:
    queue = event_queue(lifecycle_server, s3, bucket, ["s3:ObjectRestore:*"])
    s3.put_object(Bucket=bucket, Key="e", Body=b"archived", StorageClass="GLACIER")
    _restore(s3, bucket, "e", tier="Expedited")
    clock.advance(301)
    clock.run_lifecycle()
    clock.advance(2 * DAY)
    clock.run_lifecycle()
    names = [name for name, _key in received_events(lifecycle_server, queue, 3)]
    assert sorted(names) == ["ObjectRestore:Completed", "ObjectRestore:Delete", "ObjectRestore:Post"]


def test_plaintext_archive_is_compressed(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", args=("--plaintext-at-rest",)) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="plain")
        data = b"compressible line of text\n" * 40000
        s3.put_object(Bucket="plain", Key="k", Body=data, StorageClass="DEEP_ARCHIVE")
        archive_id, attrs = object_row(server, "plain", "k")
        assert archive_id is not None
        stored = blob_path(server, archive_id).stat().st_size
        assert stored == attrs["Archive"]["Stored"] and stored < len(data) // 20


def test_pending_restore_survives_a_restart(tmp_path: Path) -> None:
    data = os.urandom(80_000)
    with running_server(tmp_path / "data") as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="again")
        s3.put_object(Bucket="again", Key="k", Body=data, StorageClass="GLACIER")
        assert _restore(s3, "again", "k", tier="Expedited") == 202
    with running_server(tmp_path / "data") as server:
        s3 = server.client("s3")
        deadline = time.monotonic() + 30
        while s3.head_object(Bucket="again", Key="k")["Restore"] == 'ongoing-request="true"':
            assert time.monotonic() < deadline, "the restore did not complete after the restart"
            time.sleep(0.5)
        assert s3.get_object(Bucket="again", Key="k")["Body"].read() == data
