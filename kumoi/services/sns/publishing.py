"""Publish: validating a message, and rendering what each subscriber receives.

:func:`check_message` applies AWS's rules to one message (Publish, or an entry of PublishBatch);
for one matching subscription (its :class:`~kumoi.services.sns.routes.Route`),
:func:`direct_message` produces the SQS message a standard topic stores in the queue at once, and
:func:`render` the outbox payload of every other delivery: an SQS message (raw, or the JSON
envelope) or an HTTP POST (body and ``x-amz-sns-*`` headers, its retry schedule). Email, SMS and
the other protocols are not delivered by kumoi: :func:`render` logs them, so a developer can see
what would have been sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kumoi.core.delivery import OutgoingAttribute, OutgoingMessage
from kumoi.services.sns import attributes as sns_attributes
from kumoi.services.sns import delivery_policy, envelope, outbox
from kumoi.services.sns.filter_policy import SCOPE_BODY
from kumoi.services.sns.names import invalid
from kumoi.services.sns.registry import Subscription, Topic
from kumoi.services.sns.routes import Plan, Route
from kumoi.services.sns.signing import Signer

log = logging.getLogger("kumoi.sns")

MAX_SUBJECT = 100
#: How long a FIFO topic remembers a deduplication id.
DEDUP_WINDOW_SECONDS = 300.0
MAX_ATTRIBUTE_NAME = 256
MAX_GROUP_ID = 128
MAX_DEDUP_ID = 128
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_BASE_TYPES = ("String", "Number", "Binary")
_ID_CHARS = re.compile(r"[\x21-\x7e]+")
_USER_AGENT = "Amazon Simple Notification Service Agent"
_DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
#: Protocols kumoi records but does not deliver to.
LOGGED_PROTOCOLS = frozenset({"email", "email-json", "sms", "application", "lambda", "firehose"})


@dataclass
class Publication:
    """One accepted message of a topic."""

    message_id: str
    message: str
    structured: dict[str, str] | None
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    published_at: float
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    _signatures: dict[str, str] = field(default_factory=dict)
    _sqs_attributes: dict[str, dict[str, str]] | None = None
    _outgoing_attributes: dict[str, OutgoingAttribute] | None = None

    def text_for(self, protocol: str) -> str:
        if self.structured is None:
            return self.message
        return self.structured.get(protocol, self.structured["default"])

    def envelope_attributes(self) -> dict[str, dict[str, str]]:
        return {
            name: {
                "Type": value["DataType"],
                "Value": value["StringValue"]
                if "StringValue" in value
                else base64.b64encode(value["BinaryValue"]).decode("ascii"),
            }
            for name, value in self.attributes.items()
        }

    def sqs_attributes(self) -> dict[str, dict[str, str]]:
        """The message attributes as a raw SQS delivery carries them (computed once for all
        subscribers)."""
        if self._sqs_attributes is None:
            self._sqs_attributes = _sqs_attributes(self.attributes)
        return self._sqs_attributes

    def outgoing_attributes(self) -> dict[str, OutgoingAttribute]:
        """The message attributes of a raw SQS delivery stored at once (computed once for all
        subscribers)."""
        if self._outgoing_attributes is None:
            self._outgoing_attributes = {
                name: OutgoingAttribute(value["DataType"], binary_value=value["BinaryValue"])
                if "BinaryValue" in value
                else OutgoingAttribute(value["DataType"], string_value=value["StringValue"])
                for name, value in self.attributes.items()
            }
        return self._outgoing_attributes

    def signer(self, signer: Signer, version: str) -> Callable[[str], str]:
        def sign(canonical: str) -> str:
            signature = self._signatures.get(canonical)
            if signature is None:
                signature = self._signatures[canonical] = signer.sign(canonical, version)
            return signature

        return sign


def _check_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> int:
    """Validate message attributes; return their size in bytes (name, type and value)."""
    size = 0
    for name, value in attributes.items():
        if (
            len(name) > MAX_ATTRIBUTE_NAME
            or not _ATTRIBUTE_NAME.fullmatch(name)
            or name.startswith((".", "AWS.", "Amazon."))
            or name.endswith(".")
            or ".." in name
        ):
            raise invalid(f"MessageAttributes Reason: Invalid attribute name: {name}")
        data_type = str(value.get("DataType", ""))
        if data_type.split(".", 1)[0] not in _BASE_TYPES:
            raise invalid(
                f"MessageAttributes Reason: The message attribute '{name}' has an invalid message "
                f"attribute type, the set of supported type prefixes is Binary, Number, and String."
            )
        if data_type.startswith("Binary"):
            data = value.get("BinaryValue")
            if not data:
                raise invalid(
                    f"MessageAttributes Reason: The message attribute '{name}' with type 'Binary' must "
                    "use field 'Binary'."
                )
            size += len(data)
        else:
            text = value.get("StringValue")
            if text is None or text == "":
                raise invalid(
                    f"MessageAttributes Reason: The message attribute '{name}' must contain non-empty "
                    "message attribute value for message attribute type 'String'."
                )
            if data_type.startswith("Number") and not _is_number(text):
                raise invalid(
                    f"MessageAttributes Reason: Could not cast message attribute '{name}' value to number."
                )
            if data_type.startswith("String.Array") and not _is_json_array(text):
                raise invalid(
                    f"MessageAttributes Reason: Invalid attribute value '{text}' for data type String.Array"
                )
            size += len(text.encode("utf-8"))
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
    return size


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_json_array(text: str) -> bool:
    try:
        return isinstance(json.loads(text), list)
    except ValueError:
        return False


def check_message(topic: Topic | None, plan: Plan | None, entry: Mapping[str, Any]) -> dict[str, str] | None:
    """Validate one message to ``topic`` (``plan``: its plan), or to a phone number (both None);
    return its per-protocol messages when ``MessageStructure=json``."""
    message = entry.get("Message", "")
    if message == "":
        raise invalid("Empty message")
    structured: dict[str, str] | None = None
    structure = entry.get("MessageStructure")
    if structure is not None:
        if structure != "json":
            raise invalid("MessageStructure")
        try:
            parsed = json.loads(message)
        except ValueError:
            raise invalid("Message Structure - JSON message body failed to parse") from None
        if not isinstance(parsed, dict) or "default" not in parsed:
            raise invalid("Message Structure - No default entry in JSON message body")
        structured = {
            str(key): value if isinstance(value, str) else json.dumps(value) for key, value in parsed.items()
        }
    subject = entry.get("Subject")
    if subject is not None and (
        subject == ""
        or len(subject) > MAX_SUBJECT
        or not subject.isascii()
        or any(ch in subject for ch in "\r\n")
        or not subject.isprintable()
    ):
        raise invalid("Subject")
    size = len(message.encode("utf-8")) + _check_attributes(entry.get("MessageAttributes", {}))
    limit = plan.max_message_size if plan is not None else sns_attributes.DEFAULT_MAX_MESSAGE_SIZE
    if size > limit:
        raise invalid("Message too long")
    if topic is not None and plan is not None:
        _check_fifo(topic, plan.fifo, entry)
    return structured


def _check_fifo(topic: Topic, fifo: bool, entry: Mapping[str, Any]) -> None:
    group = entry.get("MessageGroupId")
    dedup = entry.get("MessageDeduplicationId")
    if not fifo:
        if dedup is not None:
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that "
                "is not valid for this topic type"
            )
        return
    if group is None:
        raise invalid("The MessageGroupId parameter is required for FIFO topics")
    if len(group) > MAX_GROUP_ID or not _ID_CHARS.fullmatch(group):
        raise invalid(
            "MessageGroupId Reason: MessageGroupId can only include alphanumeric and punctuation "
            "characters. 1 to 128 in length."
        )
    if dedup is None and topic.attributes.get("ContentBasedDeduplication", "false") != "true":
        raise invalid(
            "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
            "provided explicitly"
        )
    if dedup is not None and (len(dedup) > MAX_DEDUP_ID or not _ID_CHARS.fullmatch(dedup)):
        raise invalid(
            "MessageDeduplicationId Reason: MessageDeduplicationId can only include alphanumeric and "
            "punctuation characters. 1 to 128 in length."
        )


def deduplication_id(entry: Mapping[str, Any]) -> str:
    """The explicit id, or the SHA-256 of the body (content-based deduplication)."""
    explicit = entry.get("MessageDeduplicationId")
    if explicit is not None:
        return str(explicit)
    return hashlib.sha256(str(entry["Message"]).encode("utf-8")).hexdigest()


def matches(route: Route, publication: Publication) -> bool:
    policy = route.filter
    if policy is None:
        return True
    if policy.scope == SCOPE_BODY:
        return policy.matches_body(publication.text_for(route.protocol))
    return policy.matches_attributes(publication.attributes)


def _body(
    topic: Topic, plan: Plan, route: Route, publication: Publication, links: envelope.Links, signer: Signer
) -> str:
    """What ``route``'s subscriber receives: the message, or the signed JSON envelope."""
    text = publication.text_for(route.protocol)
    if route.raw:
        return text
    version = plan.signature_version
    return envelope.notification(
        message_id=publication.message_id,
        topic_arn=topic.arn,
        subscription_arn=route.subscription.arn,
        message=text,
        subject=publication.subject,
        published_at=publication.published_at,
        attributes=publication.envelope_attributes(),
        links=links,
        sign=publication.signer(signer, version),
        signature_version=version,
        sequence_number=publication.sequence_number,
    )


def direct_message(
    topic: Topic, plan: Plan, route: Route, publication: Publication, links: envelope.Links, signer: Signer
) -> OutgoingMessage:
    """The SQS message of a direct (standard topic, SQS) delivery."""
    body = _body(topic, plan, route, publication, links, signer)
    if route.raw and publication.attributes:
        return OutgoingMessage(body, publication.outgoing_attributes())
    return OutgoingMessage(body)


def sqs_payload(route: Route, publication: Publication, body: str) -> dict[str, Any]:
    """The outbox payload of an SQS delivery whose message is ``body``."""
    payload: dict[str, Any] = {
        "body": body,
        "dlq": route.dead_letter,
        "kind": outbox.SQS,
        "queue": route.subscription.endpoint,
    }
    if route.raw:
        payload["attributes"] = publication.sqs_attributes()
    return payload


def render(
    topic: Topic,
    plan: Plan,
    route: Route,
    publication: Publication,
    links: envelope.Links,
    signer: Signer,
) -> dict[str, Any] | None:
    """The outbox payload delivering ``publication`` along ``route``, or None when it is not
    delivered by kumoi (logged protocols)."""
    protocol = route.protocol
    subscription = route.subscription
    if protocol in LOGGED_PROTOCOLS:
        log.info(
            "SNS %s to %s (subscription %s): subject=%r message=%r",
            protocol,
            subscription.endpoint,
            subscription.arn,
            publication.subject,
            publication.text_for(protocol),
        )
        return None
    body = _body(topic, plan, route, publication, links, signer)
    if protocol == "sqs":
        payload = sqs_payload(route, publication, body)
        if plan.fifo:
            payload["group"] = publication.group_id
            payload["dedup"] = publication.dedup_id
        return payload
    headers = [
        ("x-amz-sns-message-type", envelope.NOTIFICATION),
        ("x-amz-sns-message-id", publication.message_id),
        ("x-amz-sns-topic-arn", topic.arn),
        ("x-amz-sns-subscription-arn", subscription.arn),
        ("Content-Type", _content_type(topic, subscription)),
        ("User-Agent", _USER_AGENT),
    ]
    if route.raw:
        headers.append(("x-amz-sns-rawdelivery", "true"))
    return {
        "body": body,
        "dlq": route.dead_letter,
        "kind": outbox.HTTP,
        "url": subscription.endpoint,
        "headers": headers,
        "delays": http_delays(topic, subscription),
    }


def http_delays(topic: Topic, subscription: Subscription) -> list[float]:
    return delivery_policy.effective_delays(
        topic.attributes.get("DeliveryPolicy"), subscription.attributes.get("DeliveryPolicy")
    )


def _content_type(topic: Topic, subscription: Subscription) -> str:
    for text in (subscription.attributes.get("DeliveryPolicy"), topic.attributes.get("DeliveryPolicy")):
        if text:
            document = json.loads(text)
            request = document.get("requestPolicy") or document.get("http", {}).get(
                "defaultRequestPolicy", {}
            )
            chosen = request.get("headerContentType") if isinstance(request, dict) else None
            if isinstance(chosen, str) and chosen and chosen.isprintable():
                return chosen
    return _DEFAULT_CONTENT_TYPE


def _sqs_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    converted: dict[str, dict[str, str]] = {}
    for name, value in attributes.items():
        if "BinaryValue" in value:
            converted[name] = {
                "DataType": value["DataType"],
                "BinaryValue": base64.b64encode(value["BinaryValue"]).decode("ascii"),
            }
        else:
            converted[name] = {"DataType": value["DataType"], "StringValue": value["StringValue"]}
    return converted


def confirmation_payload(
    kind: str,
    topic: Topic,
    subscription: Subscription,
    message_id: str,
    now: float,
    links: envelope.Links,
    signer: Signer,
) -> dict[str, Any]:
    """The outbox payload of a (un)subscription confirmation sent to an HTTP/S endpoint."""
    version = topic.attributes.get("SignatureVersion", "1")
    body = envelope.confirmation(
        kind=kind,
        message_id=message_id,
        topic_arn=topic.arn,
        token=subscription.token,
        published_at=now,
        links=links,
        signer=signer,
        signature_version=version,
    )
    headers = [
        ("x-amz-sns-message-type", kind),
        ("x-amz-sns-message-id", message_id),
        ("x-amz-sns-topic-arn", topic.arn),
        ("Content-Type", _DEFAULT_CONTENT_TYPE),
        ("User-Agent", _USER_AGENT),
    ]
    return {
        "kind": outbox.HTTP,
        "url": subscription.endpoint,
        "body": body,
        "headers": headers,
        "delays": http_delays(topic, subscription),
        "dlq": None,
        "force": True,
    }
