"""The JSON S3 sends for an event notification ("Event message structure", version 2.1) and
for the ``s3:TestEvent`` sent to each destination when a configuration is set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote_plus

from kumoi.core.context import RequestContext
from kumoi.protocol.restxml import host_id
from kumoi.storage.meta.contract import BucketRecord

EVENT_VERSION = "2.1"
SCHEMA_VERSION = "1.0"
#: The Subject of notifications S3 publishes to SNS topics.
SNS_SUBJECT = "Amazon S3 Notification"


@dataclass(frozen=True, slots=True)
class ObjectFacts:
    """What an event says about its object: size and ETag for creations and tag changes; for a
    completed restore, when the restored copy expires and the archive class it came from."""

    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    restore_expiry: float | None = None
    restore_storage_class: str | None = None


def timestamp(epoch: float) -> str:
    """ISO 8601 UTC with milliseconds, as S3 writes ``eventTime``: ``1970-01-01T00:00:00.000Z``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record(
    ctx: RequestContext,
    bucket: BucketRecord,
    event: str,
    configuration_id: str,
    facts: ObjectFacts,
    when: float,
    sequencer: str,
) -> dict[str, object]:
    """One entry of ``Records`` for ``event`` (``s3:ObjectCreated:Put``)."""
    obj: dict[str, object] = {"key": quote_plus(facts.key, safe="/")}
    if facts.size is not None:
        obj["size"] = facts.size
    if facts.etag is not None:
        obj["eTag"] = facts.etag.strip('"')
    if facts.version_id is not None:
        obj["versionId"] = facts.version_id
    obj["sequencer"] = sequencer
    entry: dict[str, object] = {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": timestamp(when),
        "eventName": event.removeprefix("s3:"),
        "userIdentity": {"principalId": f"AWS:{ctx.caller.user_id}"},
        "requestParameters": {"sourceIPAddress": ctx.remote_addr},
        "responseElements": {"x-amz-request-id": ctx.request_id, "x-amz-id-2": host_id(ctx.request_id)},
        "s3": {
            "s3SchemaVersion": SCHEMA_VERSION,
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": bucket.account_id},
                "arn": f"arn:aws:s3:::{bucket.name}",
            },
            "object": obj,
        },
    }
    if facts.restore_expiry is not None:
        # Only s3:ObjectRestore:Completed records carry it ("Event message structure").
        entry["glacierEventData"] = {
            "restoreEventData": {
                "lifecycleRestorationExpiryTime": timestamp(facts.restore_expiry),
                "lifecycleRestoreStorageClass": facts.restore_storage_class or "",
            }
        }
    return entry


def body(entry: dict[str, object]) -> str:
    return json.dumps({"Records": [entry]}, separators=(",", ":"))


def probe_message(ctx: RequestContext, bucket: str, when: float) -> str:
    """The message S3 sends to every destination of a configuration it has just accepted."""
    return json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": timestamp(when),
            "Bucket": bucket,
            "RequestId": ctx.request_id,
            "HostId": host_id(ctx.request_id),
        },
        separators=(",", ":"),
    )
