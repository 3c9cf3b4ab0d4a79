"""The JSON documents SNS delivers: notifications and (un)subscription confirmations.

Members appear in the order AWS sends them. ``Signature`` covers a canonical string of selected
members, each as ``Name\\nvalue\\n`` in alphabetical order of the name (``Subject`` only when the
message has one), as the AWS guide "Verifying the signatures of Amazon SNS messages" describes;
receivers rebuild the string from the JSON and check it against the certificate at
``SigningCertURL``. FIFO topic notifications carry no signature members, as AWS sends them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kumoi.services.sns.signing import Signer

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
#: The pseudo action that serves kumoi's signing certificate (see ``certificate.py``).
CERTIFICATE_ACTION = "GetSigningCertificate"
CERTIFICATE_PATH = "/SimpleNotificationService-kumoi.pem"

_NOTIFICATION_SIGNED = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_SIGNED = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


@dataclass(frozen=True)
class Links:
    """Where the URLs in a document point: kumoi's endpoint as the publisher's client saw it."""

    base_url: str

    @property
    def certificate(self) -> str:
        return f"{self.base_url}{CERTIFICATE_PATH}?Action={CERTIFICATE_ACTION}"

    def unsubscribe(self, subscription_arn: str) -> str:
        return f"{self.base_url}/?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe='')}"

    def confirm(self, topic_arn: str, token: str) -> str:
        return (
            f"{self.base_url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}"
            f"&Token={quote(token, safe='')}"
        )


def timestamp(epoch: float) -> str:
    """AWS's envelope timestamp: ISO 8601 UTC with milliseconds (``2012-04-25T21:49:25.719Z``)."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def canonical_string(document: Mapping[str, Any]) -> str:
    """The string a document's ``Signature`` signs."""
    names = _NOTIFICATION_SIGNED if document.get("Type") == NOTIFICATION else _CONFIRMATION_SIGNED
    return "".join(f"{name}\n{document[name]}\n" for name in names if name in document)


def notification(
    *,
    message_id: str,
    topic_arn: str,
    subscription_arn: str,
    message: str,
    subject: str | None,
    published_at: float,
    attributes: Mapping[str, Mapping[str, str]],
    links: Links,
    sign: Callable[[str], str],
    signature_version: str,
    sequence_number: str | None = None,
) -> str:
    """A ``Notification`` document, serialized. ``sign`` returns the signature of a canonical
    string (callers memoize it: every subscriber of a message gets the same signature)."""
    document: dict[str, Any] = {"Type": NOTIFICATION, "MessageId": message_id}
    if sequence_number is not None:
        document["SequenceNumber"] = sequence_number
    document["TopicArn"] = topic_arn
    if subject is not None:
        document["Subject"] = subject
    document["Message"] = message
    document["Timestamp"] = timestamp(published_at)
    if sequence_number is None:
        document["SignatureVersion"] = signature_version
        document["Signature"] = sign(canonical_string(document))
        document["SigningCertURL"] = links.certificate
    document["UnsubscribeURL"] = links.unsubscribe(subscription_arn)
    if attributes:
        document["MessageAttributes"] = {name: dict(value) for name, value in attributes.items()}
    return json.dumps(document, ensure_ascii=False)


def confirmation(
    *,
    kind: str,
    message_id: str,
    topic_arn: str,
    token: str,
    published_at: float,
    links: Links,
    signer: Signer,
    signature_version: str,
) -> str:
    """A ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation`` document, serialized."""
    if kind == SUBSCRIPTION_CONFIRMATION:
        text = (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:
        text = (
            f"You have chosen to deactivate subscription to the topic {topic_arn}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL included "
            "in this message."
        )
    document: dict[str, Any] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": links.confirm(topic_arn, token),
        "Timestamp": timestamp(published_at),
    }
    document["SignatureVersion"] = signature_version
    document["Signature"] = signer.sign(canonical_string(document), signature_version)
    document["SigningCertURL"] = links.certificate
    return json.dumps(document, ensure_ascii=False)
