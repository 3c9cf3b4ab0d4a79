"""Messages: checking what a sender sent, and shaping what a receiver gets.

:func:`prepare` turns one SendMessage (or batch entry, or cross-service delivery) into a
:class:`~kumoi.storage.meta.contract.MessageRecord` plus the response fields, applying AWS's
rules: valid characters, size (body plus attribute names, types and values), message attribute
names and types, delay precedence (the message's ``DelaySeconds`` over the queue's; FIFO queues
take only the queue's), and for FIFO queues the group id and the deduplication id (explicit, or
the SHA-256 of the body with ``ContentBasedDeduplication``), scoped to the group when the queue's
``DeduplicationScope`` is ``messageGroup``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.core.ids import unique_uuid
from kumoi.protocol.xml import NOT_XML_CHARS
from kumoi.services.sqs import limits
from kumoi.services.sqs.digests import attributes_md5, md5_hex
from kumoi.storage.meta.contract import MessageRecord, QueueRecord

# Characters SQS accepts in a message: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, those
# XML 1.0 can carry (NOT_XML_CHARS finds the others).
_INVALID_CHARS_MESSAGE = (
    "Invalid characters found. Valid unicode characters are "
    "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
)
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_RESERVED_PREFIXES = ("aws.", "amazon.")
_FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SYSTEM_ATTRIBUTES = frozenset({"AWSTraceHeader"})
#: The members of a message that carries nothing but its body (SendMessage's queue URL, a batch
#: entry's id).
_BODY_ONLY = frozenset({"MessageBody", "QueueUrl", "Id"})
_NONE: Mapping[str, Any] = {}
#: Message system attribute names a receiver may ask for.
SYSTEM_NAMES = frozenset(
    {
        "All",
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
        "MessageDeduplicationId",
        "MessageGroupId",
        "AWSTraceHeader",
        "DeadLetterQueueSourceArn",
    }
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def invalid_parameter(name: str, value: object, reason: str) -> ServiceError:
    return invalid(f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def _not_for_queue_type(name: str, value: object) -> ServiceError:
    return invalid_parameter(
        name, value, "The request include parameter that is not valid for this queue type."
    )


@dataclass(frozen=True, slots=True)
class QueueRules:
    """What a queue's attributes say about sending to it, read once per request."""

    fifo: bool
    max_bytes: int
    delay: int
    content_dedup: bool
    group_scope: bool

    @classmethod
    def of(cls, queue: QueueRecord) -> QueueRules:
        attributes = queue.attributes
        return cls(
            fifo=attributes.get("FifoQueue") == "true",
            max_bytes=int(attributes.get("MaximumMessageSize", limits.MAX_MESSAGE_BYTES)),
            delay=int(attributes.get("DelaySeconds", "0")),
            content_dedup=attributes.get("ContentBasedDeduplication") == "true",
            group_scope=attributes.get("DeduplicationScope") == "messageGroup",
        )


@dataclass(slots=True)
class Prepared:
    """A message ready to store, with the digests the send response carries."""

    record: MessageRecord
    size: int
    body_md5: str
    attributes_md5: str | None
    system_md5: str | None


def prepare(entry: Mapping[str, Any], rules: QueueRules, now: float, sender_id: str) -> Prepared:
    """Check one message (SendMessage input or batch entry); raise the error AWS gives."""
    body = entry.get("MessageBody", "")
    if not isinstance(body, str) or not body:
        raise ServiceError("MissingParameter", "The request must contain the parameter MessageBody.")
    if not valid_text(body):
        raise ServiceError("InvalidMessageContents", _INVALID_CHARS_MESSAGE)
    if entry.keys() <= _BODY_ONLY and not rules.fifo:
        return _plain(body, rules, now, sender_id)
    attributes: Mapping[str, Any] = entry.get("MessageAttributes") or _NONE
    system: Mapping[str, Any] = entry.get("MessageSystemAttributes") or _NONE
    data = body.encode("utf-8")
    size = len(data)
    if attributes:
        size += check_message_attributes(attributes)
    if system:
        _check_system_attributes(system)
    if size > rules.max_bytes:
        raise _too_long(rules)
    if rules.fifo or "MessageGroupId" in entry or "MessageDeduplicationId" in entry:
        group_id, dedup_id, dedup_key = _fifo_ids(entry, rules, body)
    else:
        group_id = dedup_id = dedup_key = None
    delay = _delay(entry, rules) if "DelaySeconds" in entry else rules.delay
    stored: dict[str, Any] = {"SenderId": sender_id}
    if attributes:
        stored["MessageAttributes"] = storable(attributes)
    if system:
        stored["AWSTraceHeader"] = system["AWSTraceHeader"]["StringValue"]
    # Positional: a dataclass's keyword call costs twice as much, once per message.
    record = MessageRecord(
        unique_uuid(), body, now, now + delay, stored, 0, None, group_id, dedup_id, None, None, dedup_key
    )
    return Prepared(
        record,
        size,
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        attributes_md5(attributes) if attributes else None,
        attributes_md5(system) if system else None,
    )


def _plain(body: str, rules: QueueRules, now: float, sender_id: str) -> Prepared:
    """:func:`prepare` for the usual message, a checked body and nothing else, on a standard
    queue: no attributes, group, deduplication id or delay of its own to check."""
    data = body.encode("utf-8")
    size = len(data)
    if size > rules.max_bytes:
        raise _too_long(rules)
    record = MessageRecord(unique_uuid(), body, now, now + rules.delay, {"SenderId": sender_id})
    return Prepared(record, size, hashlib.md5(data, usedforsecurity=False).hexdigest(), None, None)


def _too_long(rules: QueueRules) -> ServiceError:
    return invalid(
        f"One or more parameters are invalid. Reason: Message must be shorter than {rules.max_bytes} bytes."
    )


def valid_text(text: str) -> bool:
    """Whether ``text`` has only characters SQS accepts (printable ASCII, the usual case, is
    told by two C scans, in half the time the character class takes)."""
    return (text.isascii() and text.isprintable()) or not NOT_XML_CHARS.search(text)


def _delay(entry: Mapping[str, Any], rules: QueueRules) -> int:
    value = entry.get("DelaySeconds")
    if value is None:
        return rules.delay
    if rules.fifo and value != 0:
        raise _not_for_queue_type("DelaySeconds", value)
    if not 0 <= value <= limits.MAX_DELAY_SECONDS:
        raise invalid_parameter(
            "DelaySeconds", value, f"DelaySeconds must be >= 0 and <= {limits.MAX_DELAY_SECONDS}"
        )
    return int(value) if not rules.fifo else rules.delay


def _fifo_ids(
    entry: Mapping[str, Any], rules: QueueRules, body: str
) -> tuple[str | None, str | None, str | None]:
    group_id = entry.get("MessageGroupId")
    dedup_id = entry.get("MessageDeduplicationId")
    for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", dedup_id)):
        if value is not None and not _FIFO_ID.fullmatch(value):
            raise invalid_parameter(
                name,
                value,
                f"{name} can only include alphanumeric and punctuation characters. "
                f"1 to {limits.MAX_FIFO_ID_LENGTH} in length.",
            )
    if not rules.fifo:
        # Standard queues take a MessageGroupId (fair queues) but have no deduplication.
        if dedup_id is not None:
            raise _not_for_queue_type("MessageDeduplicationId", dedup_id)
        return group_id, None, None
    if group_id is None:
        raise ServiceError("MissingParameter", "The request must contain the parameter MessageGroupId.")
    if dedup_id is None:
        if not rules.content_dedup:
            raise invalid(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        dedup_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    key = f"{group_id}\n{dedup_id}" if rules.group_scope else dedup_id
    return group_id, dedup_id, key


def check_attempt_id(value: str) -> None:
    """A ReceiveRequestAttemptId: 1 to 128 alphanumeric or punctuation characters."""
    if not _FIFO_ID.fullmatch(value):
        raise invalid_parameter(
            "ReceiveRequestAttemptId",
            value,
            "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. "
            f"1 to {limits.MAX_FIFO_ID_LENGTH} in length.",
        )


def check_message_attributes(attributes: Mapping[str, Any]) -> int:
    """Validate message attributes; return the bytes they count towards the message size."""
    if len(attributes) > limits.MAX_MESSAGE_ATTRIBUTES:
        raise invalid(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{limits.MAX_MESSAGE_ATTRIBUTES}]."
        )
    total = 0
    for name, value in attributes.items():
        _check_attribute_name(name)
        data_type = value.get("DataType", "")
        base = data_type.split(".", 1)[0]
        if not data_type:
            raise invalid(f"The message attribute '{name}' must contain non-empty message attribute type.")
        if base not in ("String", "Number", "Binary") or data_type.endswith(".") or len(data_type) > 256:
            raise invalid(
                f"The type of message (user) attribute '{name}' is invalid. You must use only the "
                "following supported type prefixes: Binary, Number, String."
            )
        if "StringListValues" in value or "BinaryListValues" in value:
            raise invalid("Message attribute list values in SendMessage operation are not supported.")
        if base == "Binary":
            data = value.get("BinaryValue")
            if not data:
                raise invalid(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            size = len(data)
        else:
            text = value.get("StringValue")
            if not text:
                raise invalid(
                    f"The message attribute '{name}' must contain non-empty message attribute value "
                    f"for message attribute type '{base}'."
                )
            if "BinaryValue" in value:
                raise invalid(f"The message attribute '{name}' with type '{base}' must use field 'String'.")
            if not valid_text(text):
                raise ServiceError("InvalidMessageContents", _INVALID_CHARS_MESSAGE)
            if base == "Number" and not _NUMBER.fullmatch(text):
                raise invalid(f"Can't cast the value of message (user) attribute '{name}' to a number.")
            size = len(text.encode("utf-8"))
        total += len(name.encode("utf-8")) + len(data_type.encode("utf-8")) + size
    return total


def _check_attribute_name(name: str) -> None:
    lowered = name.lower()
    if (
        not name
        or len(name) > limits.MAX_ATTRIBUTE_NAME_LENGTH
        or not _ATTRIBUTE_NAME.fullmatch(name)
        or lowered.startswith(_RESERVED_PREFIXES)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
    ):
        raise invalid(
            f"Message (user) attribute name '{name}' is invalid. The attribute name can contain "
            "A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters, may not start or "
            "end with a period or contain two periods in a row, and may not start with AWS. or Amazon."
        )


def _check_system_attributes(system: Mapping[str, Any]) -> None:
    for name, value in system.items():
        if name not in _SYSTEM_ATTRIBUTES:
            raise invalid(f"Message system attribute name '{name}' is invalid.")
        if value.get("DataType") != "String" or not value.get("StringValue"):
            raise invalid(f"Message system attribute '{name}' must be of type String with a non-empty value.")


def storable(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Message attributes as JSON-serializable data (binary values base64)."""
    stored: dict[str, Any] = {}
    for name, value in attributes.items():
        entry = {"DataType": value["DataType"]}
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        else:
            entry["StringValue"] = value.get("StringValue", "")
        stored[name] = entry
    return stored


def _loaded(stored: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = {}
    for name, value in stored.items():
        entry: dict[str, Any] = {"DataType": value["DataType"]}
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        else:
            entry["StringValue"] = value["StringValue"]
        loaded[name] = entry
    return loaded


def _wanted(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def sequence_number(sequence: int) -> str:
    """FIFO sequence numbers as SQS shows them: a 20-digit, ever-increasing decimal string."""
    return f"{sequence:020d}"


def message_output(
    message: MessageRecord, receipt_handle: str, system_names: set[str], attribute_names: list[str]
) -> dict[str, Any]:
    """One received message as ReceiveMessage returns it."""
    output: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": receipt_handle,
        "MD5OfBody": md5_hex(message.body),
        "Body": message.body,
    }
    if system_names:
        output_system = _system_attributes(message)
        chosen = (
            output_system
            if "All" in system_names
            else {k: v for k, v in output_system.items() if k in system_names}
        )
        if chosen:
            output["Attributes"] = chosen
    if attribute_names:
        attributes = _loaded(message.attrs.get("MessageAttributes", {}))
        selected = {k: v for k, v in attributes.items() if _wanted(k, attribute_names)}
        if selected:
            output["MessageAttributes"] = selected
            output["MD5OfMessageAttributes"] = attributes_md5(selected)
    return output


def _system_attributes(message: MessageRecord) -> dict[str, str]:
    system = {
        "SenderId": str(message.attrs.get("SenderId", "")),
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at) * 1000)),
    }
    if message.dedup_id is not None and message.sequence is not None:
        system["SequenceNumber"] = sequence_number(message.sequence)
        system["MessageDeduplicationId"] = message.dedup_id
    if message.group_id is not None:
        system["MessageGroupId"] = message.group_id
    for name in ("AWSTraceHeader", "DeadLetterQueueSourceArn"):
        if name in message.attrs:
            system[name] = str(message.attrs[name])
    return system
