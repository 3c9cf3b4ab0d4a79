"""A bucket's notification configuration: validation as S3 does it, and which destinations an event reaches.

The configuration is kept in the bucket's ``config`` under :data:`CONFIG_KEY` in the shape
GetBucketNotificationConfiguration returns (every configuration with its ``Id``, generated when
the request gave none). Queue and topic configurations are delivered; Lambda and EventBridge
configurations are stored and returned only (kumoi has neither service).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from kumoi.services.s3 import errors

CONFIG_KEY = "Notification"
QUEUE, TOPIC, LAMBDA = "QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"
#: Each configuration list and the member naming its destination.
DESTINATION_MEMBERS = {QUEUE: "QueueArn", TOPIC: "TopicArn", LAMBDA: "LambdaFunctionArn"}
EVENT_BRIDGE = "EventBridgeConfiguration"
#: The event types S3 accepts in a configuration (``<family>:*`` covers the family).
EVENT_TYPES = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
    }
)
FILTER_NAMES = ("prefix", "suffix")
MAX_FILTER_VALUE = 1024
MAX_ID = 255


@dataclass(frozen=True, slots=True)
class Target:
    """One configuration an event matched: its ``Id`` and the queue or topic ARN."""

    configuration_id: str
    kind: str
    arn: str


def normalize(request: dict[str, Any]) -> dict[str, Any]:
    """The configuration to store for a PutBucketNotificationConfiguration body, validated."""
    stored: dict[str, Any] = {}
    seen: list[tuple[set[str], str, str]] = []
    for kind, member in DESTINATION_MEMBERS.items():
        entries: list[dict[str, Any]] = []
        for entry in request.get(kind) or []:
            arn = entry.get(member)
            if not arn:
                raise errors.malformed_xml()
            events = _events(entry.get("Events") or [])
            prefix, suffix = _filter(entry)
            for other_events, other_prefix, other_suffix in seen:
                if (
                    _events_overlap(events, other_events)
                    and _prefixes_overlap(prefix, other_prefix)
                    and _suffixes_overlap(suffix, other_suffix)
                ):
                    raise errors.invalid_argument(
                        "Configurations overlap. Configurations on the same bucket cannot share a "
                        "common event type.",
                        "Event",
                        sorted(events)[0],
                    )
            seen.append((events, prefix, suffix))
            config_id = entry.get("Id") or _generated_id()
            if len(config_id) > MAX_ID:
                raise errors.invalid_argument("The ID must be at most 255 characters long", "Id", config_id)
            normalized: dict[str, Any] = {"Id": config_id, member: arn, "Events": list(entry["Events"])}
            if "Filter" in entry:
                normalized["Filter"] = entry["Filter"]
            entries.append(normalized)
        if entries:
            stored[kind] = entries
    if EVENT_BRIDGE in request:
        stored[EVENT_BRIDGE] = {}
    return stored


def destinations(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, ARN) of each queue and topic configuration, without repeats, in order."""
    found: list[tuple[str, str]] = []
    for kind in (QUEUE, TOPIC):
        for entry in config.get(kind, []):
            pair = (kind, entry[DESTINATION_MEMBERS[kind]])
            if pair not in found:
                found.append(pair)
    return found


def targets(config: dict[str, Any], event: str, key: str) -> list[Target]:
    """The queue and topic configurations ``event`` (``s3:ObjectCreated:Put``) on ``key`` reaches."""
    family = event.rsplit(":", 1)[0] + ":*"
    matched: list[Target] = []
    for kind in (QUEUE, TOPIC):
        for entry in config.get(kind, []):
            events = entry["Events"]
            if event not in events and family not in events:
                continue
            prefix, suffix = _filter(entry)
            if key.startswith(prefix) and key.endswith(suffix):
                matched.append(Target(entry["Id"], kind, entry[DESTINATION_MEMBERS[kind]]))
    return matched


def _events(names: list[str]) -> set[str]:
    if not names:
        raise errors.malformed_xml()
    for name in names:
        if name not in EVENT_TYPES:
            raise errors.invalid_argument("The event is not supported for notifications", "Event", name)
    return set(names)


def _filter(entry: dict[str, Any]) -> tuple[str, str]:
    """The (prefix, suffix) of a configuration's key filter, empty when absent."""
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    found: dict[str, str] = {}
    for rule in rules:
        name = (rule.get("Name") or "").lower()
        value = rule.get("Value") or ""
        if name not in FILTER_NAMES:
            raise errors.invalid_argument(
                "filter rule name must be either prefix or suffix", "FilterRule", rule.get("Name") or ""
            )
        if name in found:
            raise errors.invalid_argument(
                f"Cannot specify more than one {name} rule in a filter.", "FilterRule", name
            )
        if len(value) > MAX_FILTER_VALUE:
            raise errors.invalid_argument("The filter rule value is too long", "FilterRule", name)
        found[name] = value
    return found.get("prefix", ""), found.get("suffix", "")


def _covers(events: set[str], name: str) -> bool:
    return name in events or name.rsplit(":", 1)[0] + ":*" in events


def _events_overlap(first: set[str], second: set[str]) -> bool:
    return any(_covers(second, name) for name in first) or any(_covers(first, name) for name in second)


def _prefixes_overlap(first: str, second: str) -> bool:
    return first.startswith(second) or second.startswith(first)


def _suffixes_overlap(first: str, second: str) -> bool:
    return first.endswith(second) or second.endswith(first)


def _generated_id() -> str:
    """An Id for a configuration given none (S3 makes up an opaque one too)."""
    return uuid.uuid4().hex
