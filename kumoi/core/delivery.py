"""Delivering messages to a queue from another service (SNS subscriptions, S3 event notifications).

Services may not import each other, so the sender programs against :class:`QueueDelivery`, a
small protocol that the SQS service implements and the composition root hands over
(:class:`TopicDelivery` likewise for SNS topics). A delivery
follows the rules of ``SendMessageBatch`` for the target queue (validation, delay, FIFO group and
deduplication, durability before returning) and wakes the queue's long-polling receivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
    async def deliver(self, queue_arn: str, messages: list[OutgoingMessage]) -> list[str]:
        """Store ``messages`` in the queue named by ``queue_arn`` (one durable write) and return
        their message ids, in order. Raise :class:`~kumoi.core.errors.ServiceError`:
        ``QueueDoesNotExist`` for an unknown queue, or the error SendMessage would give for
        the first invalid message (nothing is stored then)."""
        ...


class TopicDelivery(Protocol):
    async def publish_to_topic(self, topic_arn: str, message: str, subject: str | None, base_url: str) -> str:
        """Publish ``message`` to the standard topic ``topic_arn`` as its owner would (stored
        durably for every subscription before returning) and return the message id.
        ``base_url`` is kumoi's endpoint for the links in the envelope. Raise
        :class:`~kumoi.core.errors.ServiceError`: ``NotFound`` for an unknown topic,
        ``InvalidParameter`` for a FIFO topic (it needs a message group)."""
        ...
