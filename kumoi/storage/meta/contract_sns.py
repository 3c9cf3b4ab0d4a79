"""The SNS part of the metadata store contract: topics, subscriptions and the delivery outbox.

Topics and subscriptions are small documents (an account has thousands, not millions) that the
SNS service keeps in memory and writes through, so they are stored as one JSON document per
resource keyed by ``(kind, arn)``.

The **outbox** makes delivery durable: :meth:`SnsRepository.publish` stores one row per
(message, subscription) in the same transaction that acknowledges the publish, and a background
drainer deletes each row (:meth:`SnsRepository.finish`) once the message is delivered. After a
crash, :meth:`SnsRepository.pending` hands back every row that was acknowledged but not yet
delivered, in publish order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class SnsDocument:
    """A topic (``kind="topic"``) or a subscription (``kind="subscription"``)."""

    kind: str
    arn: str
    doc: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class OutboxRow:
    """One delivery to make: ``payload`` is the rendered delivery (its meaning belongs to SNS).
    ``row_id`` is assigned by the store and increases in publish order."""

    subscription_arn: str
    payload: dict[str, Any]
    row_id: int = 0


class SnsRepository(Protocol):
    async def load(self) -> list[SnsDocument]:
        """Every topic and subscription."""
        ...

    async def apply(self, puts: Sequence[SnsDocument], deletes: Sequence[tuple[str, str]] = ()) -> None:
        """Insert or replace ``puts`` and delete the ``(kind, arn)`` pairs in one transaction."""
        ...

    async def publish(self, topic_arn: str, sequence: int | None, rows: Sequence[OutboxRow]) -> list[int]:
        """Store ``rows`` (and ``topic_arn``'s last FIFO ``sequence`` number when given) in one
        durable transaction; return the row ids, in order (also set on the rows)."""
        ...

    async def last_sequence(self, topic_arn: str) -> int:
        """The FIFO sequence number last stored for ``topic_arn`` (0 for none)."""
        ...

    async def pending(self, after: int, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` outbox rows with ids above ``after``, in id order."""
        ...

    async def finish(self, row_ids: Sequence[int]) -> None:
        """Delete delivered (or abandoned) outbox rows."""
        ...
