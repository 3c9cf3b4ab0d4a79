"""The SNS part of the metadata store contract: topics, subscriptions and the delivery outbox.

Topics and subscriptions are small documents (an account has thousands, not millions) that the
SNS service keeps in memory and writes through, so they are stored as one JSON document per
resource keyed by ``(kind, arn)``.

The **outbox** makes delivery durable: :meth:`SnsRepository.publish` stores one row per
(message, subscription) in the same transaction that acknowledges the publish, and a background
drainer deletes each row (:meth:`SnsRepository.finish`) once the message is delivered. After a
crash, :meth:`SnsRepository.pending` hands back every row that was acknowledged but not yet
delivered, in publish order. A row delivered with retries (HTTP) records its progress
(:meth:`SnsRepository.reschedule`), so a restart continues its schedule rather than starting over.

FIFO topics' **deduplication ids** are stored with the publish that first used them and read back
at start-up (:meth:`SnsRepository.recent_deduplication`), so the deduplication window survives a
restart.
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
    ``row_id`` is assigned by the store and increases in publish order. ``attempts`` counts the
    delivery attempts already made and ``next_at`` is when (epoch seconds) the next one is due."""

    subscription_arn: str
    payload: dict[str, Any]
    row_id: int = 0
    attempts: int = 0
    next_at: float = 0.0


@dataclass(frozen=True, slots=True)
class DedupEntry:
    """A FIFO topic's deduplication id and what its first publish answered, until ``expires``."""

    dedup_id: str
    expires: float
    message_id: str
    sequence_number: str


class SnsRepository(Protocol):
    async def load(self) -> list[SnsDocument]:
        """Every topic and subscription."""
        ...

    async def apply(self, puts: Sequence[SnsDocument], deletes: Sequence[tuple[str, str]] = ()) -> None:
        """Insert or replace ``puts`` and delete the ``(kind, arn)`` pairs in one transaction (a
        deleted topic's deduplication ids go with it)."""
        ...

    async def publish(
        self,
        topic_arn: str,
        sequence: int | None,
        rows: Sequence[OutboxRow],
        dedup: Sequence[DedupEntry] = (),
        expired_before: float | None = None,
    ) -> list[int]:
        """Store ``rows`` (and ``topic_arn``'s last FIFO ``sequence`` number when given, its new
        ``dedup`` entries) in one durable transaction, dropping the topic's deduplication entries
        that expire at or before ``expired_before`` when given; return the row ids, in order (also
        set on the rows)."""
        ...

    async def recent_deduplication(self, topic_arn: str, now: float) -> list[DedupEntry]:
        """``topic_arn``'s deduplication entries that expire after ``now``, by expiry."""
        ...

    async def reschedule(self, row_id: int, attempts: int, next_at: float) -> None:
        """Record a row's delivery progress: ``attempts`` made, the next one due at ``next_at``."""
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
