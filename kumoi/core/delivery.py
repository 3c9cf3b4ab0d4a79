"""Delivering messages to a queue from another service (SNS subscriptions, S3 event notifications).

Services may not import each other, so the sender programs against :class:`QueueDelivery`, a
small protocol that the SQS service implements and the composition root hands over
(:class:`TopicDelivery` likewise for SNS topics). A delivery
follows the rules of ``SendMessageBatch`` for the target queue (validation, delay, FIFO group and
deduplication, durability before returning) and wakes the queue's long-polling receivers.

Every delivery names its :class:`DeliverySource` (the AWS service principal and the resource it
delivers for), as AWS services do when they call another service: where IAM is enforced for the
destination's account, the composition root checks the queue's or topic's policy against it
(``sqs:SendMessage`` or ``sns:Publish`` by ``sns.amazonaws.com`` with ``aws:SourceArn``...) before
the message is stored, and a denied delivery raises ``AccessDenied``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DeliverySource:
    """Who delivers: ``service_principal`` (``sns.amazonaws.com``), the resource it delivers for
    (``source_arn``: the topic or bucket ARN) and that resource's owner (``source_account``).
    These are the principal and the ``aws:SourceArn``/``aws:SourceAccount`` keys the
    destination's resource policy is evaluated with."""

    service_principal: str
    source_arn: str
    source_account: str


@dataclass(frozen=True, slots=True)
class OutgoingAttribute:
    """A message attribute: ``data_type`` is ``String``, ``Number`` or ``Binary`` (with an
    optional ``.custom`` suffix); exactly one of the values is set, as the type says."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to deliver. ``group_id`` and ``deduplication_id`` apply to FIFO queues
    (``deduplication_id`` may be omitted when the queue deduplicates by content)."""

    body: str
    attributes: dict[str, OutgoingAttribute] = field(default_factory=dict)
    delay_seconds: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class QueueDelivery(Protocol):
    async def deliver(
        self, queue_arn: str, messages: list[OutgoingMessage], *, source: DeliverySource | None = None
    ) -> list[str]:
        """Store ``messages`` in the queue named by ``queue_arn`` (one durable write) and return
        their message ids, in order. Raise :class:`~kumoi.core.errors.ServiceError`:
        ``QueueDoesNotExist`` for an unknown queue, ``AccessDenied`` when the queue's policy does
        not let ``source`` send to it (checked only where IAM is enforced), or the error
        SendMessage would give for the first invalid message (nothing is stored then)."""
        ...


class TopicDelivery(Protocol):
    async def publish_to_topic(
        self,
        topic_arn: str,
        message: str,
        subject: str | None,
        base_url: str,
        *,
        source: DeliverySource | None = None,
    ) -> str:
        """Publish ``message`` to the standard topic ``topic_arn`` (stored durably for every
        subscription before returning) and return the message id. ``base_url`` is kumoi's
        endpoint for the links in the envelope. Raise :class:`~kumoi.core.errors.ServiceError`:
        ``NotFound`` for an unknown topic, ``AccessDenied`` when the topic's policy does not let
        ``source`` publish (checked only where IAM is enforced), ``InvalidParameter`` for a FIFO
        topic (it needs a message group)."""
        ...
