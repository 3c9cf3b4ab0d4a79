"""Lifecycle configuration (validation as S3 answers it), ``x-amz-expiration``, and the lifecycle
worker run through ``POST /_kumoi/lifecycle`` on a server whose clock the tests move by days."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime
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
from tests.support.server import ServerProcess

__all__ = ["clock", "lifecycle_server", "s3"]

LARGE = 200 * 1024


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("lc")
    s3.create_bucket(Bucket=name)
    return name


def _put_rules(s3: Any, bucket: str, *rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)}, **extra
    )
    return response


def test_configuration_round_trip(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchLifecycleConfiguration", 404)
    rules = [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 7}},
        {
            "ID": "cold",
            "Status": "Disabled",
            "Filter": {
                "And": {"Prefix": "data/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 5}
            },
            "Transitions": [
                {"Days": 30, "StorageClass": "STANDARD_IA"},
                {"Days": 90, "StorageClass": "GLACIER"},
            ],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 10, "NewerNoncurrentVersions": 2},
        },
        {
            "ID": "dated",
            "Status": "Enabled",
            "Filter": {},
            "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)},
        },
        {
            "ID": "mpu",
            "Status": "Enabled",
            "Prefix": "",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
        },
    ]
    put = _put_rules(s3, bucket, *rules, TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert [rule["ID"] for rule in got["Rules"]] == ["logs", "cold", "dated", "mpu"]
    assert got["Rules"][1]["Transitions"][1] == {"Days": 90, "StorageClass": "GLACIER"}
    assert got["Rules"][1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got["Rules"][2]["Expiration"]["Date"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert got["Rules"][3]["Prefix"] == ""
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchLifecycleConfiguration", 404)


def test_a_rule_without_id_gets_one(s3: Any, bucket: str) -> None:
    _put_rules(s3, bucket, {"Status": "Enabled", "Filter": {"Prefix": "x"}, "Expiration": {"Days": 1}})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["ID"] and len(rule["ID"]) <= 255


_EXPIRE = {"Expiration": {"Days": 1}}
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("days zero", {"Filter": {}, "Expiration": {"Days": 0}}, "InvalidArgument"),
    (
        "date not midnight",
        {"Filter": {}, "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)}},
        "InvalidArgument",
    ),
    (
        "days and date",
        {"Filter": {}, "Expiration": {"Days": 1, "Date": datetime(2030, 1, 1, tzinfo=UTC)}},
        "MalformedXML",
    ),
    (
        "marker with days",
        {"Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}},
        "MalformedXML",
    ),
    (
        "marker with tags",
        {"Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
        "InvalidRequest",
    ),
    (
        "ia before 30 days",
        {"Filter": {}, "Transitions": [{"Days": 29, "StorageClass": "STANDARD_IA"}]},
        "InvalidArgument",
    ),
    (
        "onezone before 30 days",
        {"Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "ONEZONE_IA"}]},
        "InvalidArgument",
    ),
    (
        "same class twice",
        {
            "Filter": {},
            "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}, {"Days": 2, "StorageClass": "GLACIER"}],
        },
        "InvalidRequest",
    ),
    (
        "expiration before transition",
        {"Filter": {}, "Expiration": {"Days": 10}, "Transitions": [{"Days": 20, "StorageClass": "GLACIER"}]},
        "InvalidArgument",
    ),
    ("no action", {"Filter": {}}, "InvalidRequest"),
    ("filter and prefix", {"Filter": {}, "Prefix": "a", **_EXPIRE}, "MalformedXML"),
    ("neither filter nor prefix", {**_EXPIRE}, "MalformedXML"),
    (
        "two filter conditions",
        {"Filter": {"Prefix": "a", "ObjectSizeGreaterThan": 5}, **_EXPIRE},
        "MalformedXML",
    ),
    (
        "size bounds crossed",
        {"Filter": {"And": {"ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 5}}, **_EXPIRE},
        "InvalidArgument",
    ),
    (
        "abort with tags",
        {
            "Filter": {"Tag": {"Key": "a", "Value": "b"}},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        "InvalidRequest",
    ),
    (
        "abort zero days",
        {"Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}},
        "InvalidArgument",
    ),
    (
        "noncurrent zero days",
        {"Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 0}},
        "InvalidArgument",
    ),
    ("id too long", {"ID": "x" * 256, "Filter": {}, **_EXPIRE}, "InvalidArgument"),
    # Periods whose dates no four-digit year can hold (see kumoi.services.s3.periods).
    ("expiration past the calendar", {"Filter": {}, "Expiration": {"Days": 2**40}}, "InvalidArgument"),
    (
        "abort past the calendar",
        {"Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1_000_001}},
        "InvalidArgument",
    ),
    (
        "transition past the calendar",
        {"Filter": {}, "Transitions": [{"Days": 2**31, "StorageClass": "GLACIER"}]},
        "InvalidArgument",
    ),
]


@pytest.mark.parametrize(("rule", "code"), [(r, c) for _n, r, c in INVALID], ids=[n for n, _r, _c in INVALID])
def test_invalid_rules_are_refused(s3: Any, bucket: str, rule: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _put_rules(s3, bucket, {"Status": "Enabled", **rule})
    assert error_of(excinfo) == (code, 400)


def test_duplicate_ids_and_bad_status_are_refused(s3: Any, bucket: str) -> None:
    rule = {"ID": "same", "Status": "Enabled", "Filter": {}, **_EXPIRE}
    with pytest.raises(ClientError) as excinfo:
        _put_rules(s3, bucket, rule, rule)
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": []})
    assert error_of(excinfo) == ("MalformedXML", 400)


def test_expiration_header_names_the_rule_and_midnight(s3: Any, bucket: str) -> None:
    _put_rules(
        s3,
        bucket,
        {"ID": "logs rule", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 3}},
    )
    put = s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="logs/a")
    got = s3.get_object(Bucket=bucket, Key="logs/a")
    created = head["LastModified"].timestamp()
    expected = (int(created + 3 * DAY) // DAY + 1) * DAY
    expiry = datetime.fromtimestamp(expected, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    value = f'expiry-date="{expiry}", rule-id="logs%20rule"'
    assert put["Expiration"] == head["Expiration"] == got["Expiration"] == value
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="other")


def test_expiration_deletes_after_the_rounded_day(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    _put_rules(
        s3,
        bucket,
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {
            "ID": "tagged",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": "drop", "Value": "yes"}},
            "Expiration": {"Days": 1},
        },
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    )
    for key in ("tmp/a", "tmp/b", "keep/a", "other"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"data", Tagging="drop=yes")
    clock.run_lifecycle()
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 5
    clock.advance(2 * DAY + 60)
    report = clock.run_lifecycle()
    assert report["expired"] >= 3
    keys = [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["keep/a", "other"]


def test_transitions_change_the_storage_class(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    _put_rules(
        s3,
        bucket,
        {
            "ID": "down",
            "Status": "Enabled",
            "Filter": {"Prefix": "d/"},
            "Transitions": [
                {"Days": 30, "StorageClass": "STANDARD_IA"},
                {"Days": 60, "StorageClass": "GLACIER_IR"},
            ],
        },
    )
    big = os.urandom(LARGE)
    s3.put_object(Bucket=bucket, Key="d/big", Body=big)
    s3.put_object(Bucket=bucket, Key="d/small", Body=b"tiny")
    clock.advance(31 * DAY)
    clock.run_lifecycle()
    classes = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    # Objects under 128 KiB stay where they are by default (TransitionDefaultMinimumObjectSize).
    assert classes == {"d/big": "STANDARD_IA", "d/small": "STANDARD"}
    clock.advance(30 * DAY)
    clock.run_lifecycle()
    head = s3.head_object(Bucket=bucket, Key="d/big")
    assert head["StorageClass"] == "GLACIER_IR"
    # Instant retrieval: still readable.
    assert s3.get_object(Bucket=bucket, Key="d/big")["Body"].read() == big


def test_transition_to_glacier_archives(
    s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess
) -> None:
    _put_rules(
        s3,
        bucket,
        {
            "ID": "a",
            "Status": "Enabled",
            "Filter": {"Prefix": "a/"},
            "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}],
        },
        {
            "ID": "b",
            "Status": "Enabled",
            "Filter": {"Prefix": "b/"},
            "Transitions": [{"Days": 1, "StorageClass": "DEEP_ARCHIVE"}],
        },
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )
    s3.put_object(Bucket=bucket, Key="a/1", Body=b"small but archived")
    s3.put_object(Bucket=bucket, Key="b/1", Body=os.urandom(LARGE))
    clock.advance(2 * DAY)
    report = clock.run_lifecycle()
    assert report["archived"] == 2
    for key, storage_class in (("a/1", "GLACIER"), ("b/1", "DEEP_ARCHIVE")):
        with pytest.raises(ClientError) as excinfo:
            s3.get_object(Bucket=bucket, Key=key)
        assert error_of(excinfo) == ("InvalidObjectState", 403)
        assert excinfo.value.response["Error"]["StorageClass"] == storage_class
        assert s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == storage_class
        blob_id, attrs = object_row(lifecycle_server, bucket, key)
        assert blob_id is not None and attrs["Archive"]["Parts"]
        assert blob_path(lifecycle_server, blob_id).exists()
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "a/1"})
    assert error_of(excinfo) == ("InvalidObjectState", 403)


def test_incomplete_uploads_are_aborted(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    _put_rules(
        s3,
        bucket,
        {
            "ID": "mpu",
            "Status": "Enabled",
            "Filter": {"Prefix": "up/"},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    )
    kept = s3.create_multipart_upload(Bucket=bucket, Key="elsewhere")["UploadId"]
    s3.create_multipart_upload(Bucket=bucket, Key="up/one")
    s3.create_multipart_upload(Bucket=bucket, Key="up/two")
    clock.advance(2 * DAY + 60)
    assert clock.run_lifecycle()["uploads_aborted"] == 2
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [upload["UploadId"] for upload in uploads] == [kept]


def test_versioned_bucket_expiration_and_noncurrent_versions(
    s3: Any, bucket: str, clock: ShiftedClock
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _put_rules(
        s3,
        bucket,
        {"ID": "cur", "Status": "Enabled", "Filter": {"Prefix": "cur/"}, "Expiration": {"Days": 1}},
        {
            "ID": "old",
            "Status": "Enabled",
            "Filter": {"Prefix": "old/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1},
        },
        {
            "ID": "markers",
            "Status": "Enabled",
            "Filter": {"Prefix": "gone/"},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
        },
    )
    s3.put_object(Bucket=bucket, Key="cur/a", Body=b"v1")
    versions = [
        s3.put_object(Bucket=bucket, Key="old/a", Body=f"v{i}".encode())["VersionId"] for i in range(4)
    ]
    s3.put_object(Bucket=bucket, Key="gone/a", Body=b"v1")
    only = s3.list_object_versions(Bucket=bucket, Prefix="gone/")["Versions"][0]["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gone/a", VersionId=only)
    s3.put_object(Bucket=bucket, Key="gone/b", Body=b"v1")
    s3.delete_object(Bucket=bucket, Key="gone/b")
    s3.delete_object(
        Bucket=bucket,
        Key="gone/b",
        VersionId=s3.list_object_versions(Bucket=bucket, Prefix="gone/b")["Versions"][0]["VersionId"],
    )
    clock.advance(2 * DAY + 60)
    report = clock.run_lifecycle()
    assert report["delete_markers_added"] == 1
    assert report["noncurrent_expired"] == 2
    assert report["delete_markers_removed"] == 1
    listing = s3.list_object_versions(Bucket=bucket)
    markers = {(m["Key"], m["IsLatest"]) for m in listing.get("DeleteMarkers", [])}
    assert markers == {("cur/a", True)}
    kept = [v["VersionId"] for v in listing["Versions"] if v["Key"] == "old/a"]
    assert kept == [versions[3], versions[2]]


def test_days_expiration_removes_a_lone_delete_marker_once_it_is_old_enough(
    s3: Any, bucket: str, clock: ShiftedClock
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _put_rules(s3, bucket, {"ID": "aged", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3}})
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    clock.advance(DAY)
    clock.run_lifecycle()
    markers = s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])
    assert [(m["Key"], m["IsLatest"]) for m in markers] == [("k", True)]
    clock.advance(3 * DAY)
    clock.run_lifecycle()
    listing = s3.list_object_versions(Bucket=bucket)
    assert "DeleteMarkers" not in listing and "Versions" not in listing


def test_lifecycle_events_are_delivered(
    s3: Any, bucket: str, clock: ShiftedClock, lifecycle_server: ServerProcess
) -> None:
    queue = event_queue(lifecycle_server, s3, bucket, ["s3:LifecycleExpiration:*", "s3:LifecycleTransition"])
    _put_rules(
        s3,
        bucket,
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 1}},
        {
            "ID": "t",
            "Status": "Enabled",
            "Filter": {"Prefix": "t/"},
            "Transitions": [{"Days": 0, "StorageClass": "GLACIER_IR"}],
        },
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )
    s3.put_object(Bucket=bucket, Key="t/1", Body=os.urandom(LARGE))
    s3.put_object(Bucket=bucket, Key="x/1", Body=b"data")
    clock.advance(2 * DAY)
    clock.run_lifecycle()
    seen = set(received_events(lifecycle_server, queue, 2))
    assert seen == {("LifecycleExpiration:Delete", "x/1"), ("LifecycleTransition", "t/1")}


def test_lifecycle_endpoint_needs_post(lifecycle_server: ServerProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(f"{lifecycle_server.endpoint}/_kumoi/lifecycle", timeout=10)
    assert excinfo.value.code == 405


def test_noncurrent_versions_transition(s3: Any, bucket: str, clock: ShiftedClock) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _put_rules(
        s3,
        bucket,
        {
            "ID": "nt",
            "Status": "Enabled",
            "Filter": {"ObjectSizeGreaterThan": 0},
            "NoncurrentVersionTransitions": [
                {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"},
                {"NoncurrentDays": 60, "StorageClass": "GLACIER"},
            ],
        },
    )
    for body in (b"one", b"two", b"three"):
        s3.put_object(Bucket=bucket, Key="k", Body=body)
    clock.advance(31 * DAY)
    assert clock.run_lifecycle()["transitioned"] == 2
    classes = [(v["IsLatest"], v["StorageClass"]) for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert classes == [(True, "STANDARD"), (False, "STANDARD_IA"), (False, "STANDARD_IA")]
    clock.advance(40 * DAY)
    report = clock.run_lifecycle()
    assert (report["transitioned"], report["archived"]) == (2, 2)
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["StorageClass"] for v in versions] == ["STANDARD", "GLACIER", "GLACIER"]
    oldest = versions[2]["VersionId"]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId=oldest)
    assert error_of(excinfo) == ("InvalidObjectState", 403)
    restored = s3.restore_object(
        Bucket=bucket,
        Key="k",
        VersionId=oldest,
        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    assert restored["ResponseMetadata"]["HTTPStatusCode"] == 202
    clock.advance(301)
    clock.run_lifecycle()
    head = s3.head_object(Bucket=bucket, Key="k", VersionId=oldest)
    assert head["Restore"].startswith('ongoing-request="false"')
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=oldest)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"three"


def test_deprecated_put_and_get_bucket_lifecycle(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old",
                    "Prefix": "p/",
                    "Status": "Enabled",
                    "Transition": {"Days": 30, "StorageClass": "GLACIER"},
                    "Expiration": {"Days": 60},
                }
            ]
        },
    )
    legacy = s3.get_bucket_lifecycle(Bucket=bucket)["Rules"]
    assert legacy == [
        {
            "ID": "old",
            "Prefix": "p/",
            "Status": "Enabled",
            "Transition": {"Days": 30, "StorageClass": "GLACIER"},
            "Expiration": {"Days": 60},
        }
    ]
    current = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert current["Transitions"] == [{"Days": 30, "StorageClass": "GLACIER"}]


def test_locked_versions_are_not_expired(s3: Any, clock: ShiftedClock) -> None:
    name = unique("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    _put_rules(
        s3,
        name,
        {
            "ID": "old",
            "Status": "Enabled",
            "Filter": {},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
    )
    until = datetime(2099, 1, 1, tzinfo=UTC)
    locked = s3.put_object(
        Bucket=name, Key="k", Body=b"kept", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until
    )["VersionId"]
    free = s3.put_object(Bucket=name, Key="k", Body=b"free")["VersionId"]
    s3.put_object(Bucket=name, Key="k", Body=b"latest")
    clock.advance(2 * DAY + 60)
    assert clock.run_lifecycle()["noncurrent_expired"] == 1
    versions = [v["VersionId"] for v in s3.list_object_versions(Bucket=name)["Versions"]]
    assert locked in versions and free not in versions
