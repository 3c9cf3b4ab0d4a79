"""Queue attributes: defaults, validation and normalization (CreateQueue, SetQueueAttributes).

Values are stored as the strings the API returns. Booleans are normalized to ``true``/``false``
and the JSON policies (``RedrivePolicy``, ``RedriveAllowPolicy``) to compact JSON, so that a
CreateQueue repeating a queue's attributes compares equal however it spelled them. Attributes
that only FIFO queues have are unknown to standard queues (``InvalidAttributeName``), as in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.sqs import limits

STANDARD_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(limits.MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
#: Attributes SQS computes; GetQueueAttributes may ask for them, nobody may set them.
COMPUTED = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "QueueArn",
    }
)
_RANGES = {
    "DelaySeconds": (0, limits.MAX_DELAY_SECONDS),
    "MaximumMessageSize": (limits.MIN_MESSAGE_BYTES, limits.MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": (limits.MIN_RETENTION_SECONDS, limits.MAX_RETENTION_SECONDS),
    "ReceiveMessageWaitTimeSeconds": (0, limits.MAX_WAIT_SECONDS),
    "VisibilityTimeout": (0, limits.MAX_VISIBILITY_TIMEOUT),
    "KmsDataKeyReusePeriodSeconds": (limits.MIN_KMS_REUSE_SECONDS, limits.MAX_KMS_REUSE_SECONDS),
}
_BOOLEANS = frozenset({"SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue"})
_CHOICES = {
    "DeduplicationScope": frozenset({"queue", "messageGroup"}),
    "FifoThroughputLimit": frozenset({"perQueue", "perMessageGroupId"}),
}
_FREE_TEXT = frozenset({"KmsMasterKeyId", "Policy"})
_POLICIES = frozenset({"RedrivePolicy", "RedriveAllowPolicy"})
FIFO_ONLY = frozenset({"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
SETTABLE = frozenset(_RANGES) | _BOOLEANS | frozenset(_CHOICES) | _FREE_TEXT | _POLICIES
ALL_NAMES = SETTABLE | COMPUTED
_REDRIVE_PERMISSIONS = frozenset({"allowAll", "denyAll", "byQueue"})


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    dead_letter_arn: str
    max_receive_count: int


def unknown_attribute(name: str) -> ServiceError:
    return ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_value(name: str, reason: str = "") -> ServiceError:
    suffix = f" Reason: {reason}" if reason else ""
    return ServiceError("InvalidAttributeValue", f"Invalid value for the parameter {name}.{suffix}")


def is_fifo(attributes: dict[str, str]) -> bool:
    return attributes.get("FifoQueue") == "true"


def validate(attributes: dict[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """The attributes normalized, or the error AWS gives for the first bad one."""
    normalized: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo) or (name == "FifoQueue" and not creating):
            raise unknown_attribute(name)
        normalized[name] = _normalize(name, value)
    scope = normalized.get("DeduplicationScope")
    if normalized.get("FifoThroughputLimit") == "perMessageGroupId" and scope == "queue":
        raise invalid_value(
            "FifoThroughputLimit", "perMessageGroupId is only valid with DeduplicationScope messageGroup."
        )
    return normalized


def _normalize(name: str, value: str) -> str:
    if name in _RANGES:
        low, high = _RANGES[name]
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise invalid_value(name)
        return str(int(value))
    if name in _BOOLEANS:
        if value.lower() not in ("true", "false"):
            raise invalid_value(name)
        return value.lower()
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise invalid_value(name)
        return value
    if name == "Policy":
        if value and not isinstance(_json(name, value), dict):
            raise invalid_value(name)
        return value
    if name == "RedrivePolicy":
        return "" if not value else _dump(_redrive_document(parse_redrive(value)))
    if name == "RedriveAllowPolicy":
        return "" if not value else _dump(_redrive_allow(value))
    return value


def _json(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise invalid_value(name, "The policy is not valid JSON.") from None


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def redrive_error(value: str, reason: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}"
    )


def parse_redrive(value: str) -> RedrivePolicy:
    """A ``RedrivePolicy`` JSON document; ``maxReceiveCount`` may be a number or a string."""
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise redrive_error(value, "Redrive policy is not a valid JSON map.")
    arn = document.get("deadLetterTargetArn")
    count = document.get("maxReceiveCount")
    if not isinstance(arn, str) or count is None:
        raise redrive_error(
            value, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
        )
    try:
        receives = int(count)
    except (TypeError, ValueError):
        receives = 0
    if (
        isinstance(count, bool)
        or not limits.MIN_MAX_RECEIVE_COUNT <= receives <= limits.MAX_MAX_RECEIVE_COUNT
    ):
        raise redrive_error(
            value,
            f"Invalid value for maxReceiveCount: {count}, valid values are from "
            f"{limits.MIN_MAX_RECEIVE_COUNT} to {limits.MAX_MAX_RECEIVE_COUNT} both inclusive.",
        )
    return RedrivePolicy(arn, receives)


def _redrive_document(policy: RedrivePolicy) -> dict[str, Any]:
    return {"deadLetterTargetArn": policy.dead_letter_arn, "maxReceiveCount": policy.max_receive_count}


def redrive_of(attributes: dict[str, str]) -> RedrivePolicy | None:
    value = attributes.get("RedrivePolicy")
    return parse_redrive(value) if value else None


def _redrive_allow(value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict) or document.get("redrivePermission") not in _REDRIVE_PERMISSIONS:
        raise invalid_value("RedriveAllowPolicy", "redrivePermission must be allowAll, denyAll or byQueue.")
    permission = document["redrivePermission"]
    sources = document.get("sourceQueueArns")
    if permission != "byQueue":
        if sources is not None:
            raise invalid_value("RedriveAllowPolicy", "sourceQueueArns is only valid with byQueue.")
        return {"redrivePermission": permission}
    if (
        not isinstance(sources, list)
        or not 1 <= len(sources) <= limits.MAX_REDRIVE_SOURCE_ARNS
        or not all(isinstance(arn, str) for arn in sources)
    ):
        raise invalid_value(
            "RedriveAllowPolicy",
            f"byQueue needs 1 to {limits.MAX_REDRIVE_SOURCE_ARNS} sourceQueueArns.",
        )
    return {"redrivePermission": permission, "sourceQueueArns": sources}


def allows_source(dead_letter_attributes: dict[str, str], source_arn: str) -> bool:
    """Whether the dead-letter queue's ``RedriveAllowPolicy`` lets ``source_arn`` use it."""
    value = dead_letter_attributes.get("RedriveAllowPolicy")
    if not value:
        return True
    document = json.loads(value)
    permission = document["redrivePermission"]
    if permission == "denyAll":
        return False
    return permission == "allowAll" or source_arn in document.get("sourceQueueArns", [])
