"""Restores as the S3 docs describe them: the ``s3:ObjectRestore:Completed`` record carries
``glacierEventData`` (the copy's expiry and the archive class), listings show ``RestoreStatus``
when ``x-amz-optional-object-attributes`` asks for it, and a copy of a restored archived object is
a STANDARD object that stays readable after the restored copy expires."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from tests.integration.s3.conftest import unique
from tests.integration.s3.lifecycle_fixtures import (
    DAY,
    ShiftedClock,
    clock,
    event_queue,
    lifecycle_server,
    s3,
)
from tests.support.server import ServerProcess

__all__ = ["clock", "lifecycle_server", "s3"]

#: The Expedited tier of GLACIER (5 minutes) at the default speed-up: 5 seconds; a margin above it.
EXPEDITED_SECONDS = 301


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("fr")
    s3.create_bucket(Bucket=name)
    return name


def _restore(s3: Any, bucket: str, key: str, days: int = 1, **extra: Any) -> None:
    s3.restore_object(
        Bucket=bucket,
        Key=key,
        RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": "Expedited"}},
        **extra,
    )


def _records(server: ServerProcess, queue: str, count: int) -> dict[str, dict[str, Any]]:
    """The event records received from ``queue`` by event name, until ``count`` arrived (or ten
    one-second polls passed)."""
    sqs = server.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                seen[record["eventName"]] = record
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if len(seen) >= count:
            break
    return seen


def test_completed_restore_event_carries_glacier_event_data(
    s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess
) -> None:
    queue = event_queue(lifecycle_server, s3, bucket, ["s3:ObjectRestore:*"])
    s3.put_object(Bucket=bucket, Key="deep", Body=b"cold bytes", StorageClass="GLACIER")
    _restore(s3, bucket, "deep", days=1)
    clock.advance(EXPEDITED_SECONDS)
    clock.run_lifecycle()
    header = s3.head_object(Bucket=bucket, Key="deep")["Restore"]
    expiry = parsedate_to_datetime(header.split('expiry-date="')[1].rstrip('"'))
    # Within the queue's four days of retention, so all three messages are still there.
    clock.advance(2 * DAY)
    clock.run_lifecycle()
    records = _records(lifecycle_server, queue, 3)
    assert set(records) == {"ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete"}
    data = records["ObjectRestore:Completed"]["glacierEventData"]["restoreEventData"]
    assert data["lifecycleRestoreStorageClass"] == "GLACIER"
    stamp = data["lifecycleRestorationExpiryTime"]
    assert stamp.endswith(".000Z")
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == expiry
    # Only the Completed record has it (the S3 event message structure).
    assert "glacierEventData" not in records["ObjectRestore:Post"]
    assert "glacierEventData" not in records["ObjectRestore:Delete"]


def test_completed_restore_event_of_a_version(
    s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    queue = event_queue(lifecycle_server, s3, bucket, ["s3:ObjectRestore:Completed"])
    version = s3.put_object(Bucket=bucket, Key="v", Body=b"old", StorageClass="DEEP_ARCHIVE")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"new")
    s3.restore_object(
        Bucket=bucket,
        Key="v",
        VersionId=version,
        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}},
    )
    clock.advance(12 * 60 + 1)
    clock.run_lifecycle()
    record = _records(lifecycle_server, queue, 1)["ObjectRestore:Completed"]
    assert record["s3"]["object"]["versionId"] == version
    data = record["glacierEventData"]["restoreEventData"]
    assert data["lifecycleRestoreStorageClass"] == "DEEP_ARCHIVE"


def _statuses(listing: dict[str, Any], member: str = "Contents") -> dict[str, Any]:
    return {entry["Key"]: entry.get("RestoreStatus") for entry in listing.get(member, [])}


def test_listings_show_restore_status_when_asked(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    for key in ("a-archived", "b-restoring", "c-restored"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode(), StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="d-hot", Body=b"hot")
    _restore(s3, bucket, "c-restored", days=2)
    clock.advance(EXPEDITED_SECONDS)
    clock.run_lifecycle()
    _restore(s3, bucket, "b-restoring")
    asked = {"OptionalObjectAttributes": ["RestoreStatus"]}
    v2 = _statuses(s3.list_objects_v2(Bucket=bucket, **asked))
    assert v2["a-archived"] is None and v2["d-hot"] is None
    assert v2["b-restoring"] == {"IsRestoreInProgress": True}
    restored = v2["c-restored"]
    assert restored["IsRestoreInProgress"] is False
    header = s3.head_object(Bucket=bucket, Key="c-restored")["Restore"]
    expiry = parsedate_to_datetime(header.split('expiry-date="')[1].rstrip('"'))
    assert restored["RestoreExpiryDate"] == expiry
    assert _statuses(s3.list_objects(Bucket=bucket, **asked)) == v2
    assert _statuses(s3.list_object_versions(Bucket=bucket, **asked), "Versions") == v2
    # Not asked: not shown.
    assert set(_statuses(s3.list_objects_v2(Bucket=bucket)).values()) == {None}
    assert set(_statuses(s3.list_object_versions(Bucket=bucket), "Versions").values()) == {None}
    # An expired copy has no status any more.
    clock.advance(3 * DAY)
    clock.run_lifecycle()
    assert _statuses(s3.list_objects_v2(Bucket=bucket, **asked))["c-restored"] is None


def test_copy_of_a_restored_object_is_standard_and_stays_readable(
    s3: Any, bucket: str, clock: ShiftedClock
) -> None:
    data = os.urandom(150_000)
    s3.put_object(Bucket=bucket, Key="cold", Body=data, StorageClass="GLACIER")
    _restore(s3, bucket, "cold")
    clock.advance(EXPEDITED_SECONDS)
    clock.run_lifecycle()
    s3.copy_object(Bucket=bucket, Key="thawed", CopySource={"Bucket": bucket, "Key": "cold"})
    head = s3.head_object(Bucket=bucket, Key="thawed")
    assert "StorageClass" not in head and "Restore" not in head
    clock.advance(2 * DAY)
    clock.run_lifecycle()
    assert s3.get_object(Bucket=bucket, Key="thawed")["Body"].read() == data
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="cold")
