"""Event notifications in a versioned bucket: version ids in ``s3.object``, and
``ObjectRemoved:DeleteMarkerCreated`` for deletes that add a marker (``ObjectRemoved:Delete``
for deletes of a version)."""

from __future__ import annotations

from typing import Any

from tests.integration.s3.test_notifications import configure, new_queue, queue_config, receive


def test_versioned_events(s3: Any, sqs: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url, arn = new_queue(sqs)
    configure(s3, sqs, bucket, url, [queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])])
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    (created,) = receive(sqs, url, 1)
    record = created["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["versionId"] == version

    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    (removed,) = receive(sqs, url, 1)
    record = removed["Records"][0]
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert record["s3"]["object"]["versionId"] == marker

    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    (gone,) = receive(sqs, url, 1)
    record = gone["Records"][0]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["object"]["versionId"] == version


def test_only_marker_events_when_asked(s3: Any, sqs: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url, arn = new_queue(sqs)
    configure(s3, sqs, bucket, url, [queue_config(arn, ["s3:ObjectRemoved:DeleteMarkerCreated"])])
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)  # permanent: not this event
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    (only,) = receive(sqs, url, 1)
    assert only["Records"][0]["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
