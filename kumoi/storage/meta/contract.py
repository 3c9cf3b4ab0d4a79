"""The metadata store contract that services program against.

Every implementation (SQLite now, PostgreSQL later) passes the same contract tests
(``tests/storage_contract``). Writes are atomic per call and durable when the call returns.
Records are plain dataclasses; ``attrs``/``config`` dictionaries hold JSON-serializable
documents whose meaning belongs to the service that writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class BucketRecord:
    name: str
    account_id: str
    region: str
    created: float
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ObjectRecord:
    """One S3 object. Its bytes are either in the blob store (``blob_id``) or ``inline``."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float
    blob_id: str | None = None
    inline: bytes | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class QueueRecord:
    account_id: str
    name: str
    created: float
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    queue_id: int | None = None
    last_modified: float = 0.0


@dataclass(slots=True)
class MessageRecord:
    message_id: str
    body: str
    sent_at: float
    visible_at: float
    attrs: dict[str, Any] = field(default_factory=dict)
    receive_count: int = 0
    first_received_at: float | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    sequence: int | None = None
    receipt: str | None = None


class BucketExists(Exception):
    """``create_bucket`` found the name taken; ``existing`` is the bucket that holds it."""

    def __init__(self, existing: BucketRecord) -> None:
        super().__init__(existing.name)
        self.existing = existing


class BucketNotEmpty(Exception):
    pass


class BucketMissing(Exception):
    """``put_object`` found no bucket of that name: it was deleted while the object was written."""


class QueueMissing(Exception):
    """``send`` found no queue of that id: it was deleted while the messages were prepared."""


class S3Repository(Protocol):
    async def create_bucket(self, record: BucketRecord) -> None:
        """Insert a bucket; raise :class:`BucketExists` if the name is taken (by anyone)."""
        ...

    async def get_bucket(self, name: str) -> BucketRecord | None: ...

    async def list_buckets(self, account_id: str, prefix: str = "", after: str = "",
                           limit: int = 10000) -> list[BucketRecord]:
        """The account's buckets ordered by name, names > ``after`` starting with ``prefix``."""
        ...

    async def update_bucket_config(self, name: str, config: dict[str, Any]) -> None: ...

    async def delete_bucket(self, name: str) -> bool:
        """Delete an empty bucket; False if absent; raise :class:`BucketNotEmpty` otherwise."""
        ...

    async def put_object(self, record: ObjectRecord) -> None:
        """Insert or atomically replace an object. The replaced object's blob (if any) is queued
        for garbage collection and ``record.blob_id``'s write intent is cleared, in the same
        transaction. Raise :class:`BucketMissing` if the bucket does not exist."""
        ...

    async def get_object(self, bucket: str, key: str) -> ObjectRecord | None: ...

    async def delete_object(self, bucket: str, key: str) -> ObjectRecord | None:
        """Delete and return the object (its blob queued for garbage collection), or None."""
        ...

    async def list_objects(self, bucket: str, prefix: str = "", after: str = "",
                           limit: int = 1000) -> list[ObjectRecord]:
        """Objects with keys > ``after`` starting with ``prefix``, in UTF-8 byte order of keys.
        Costs O(limit) whatever the bucket size. Listed records carry no ``inline`` bytes."""
        ...


class SqsRepository(Protocol):
    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        """Insert the queue, or return the existing one of that account and name unchanged."""
        ...

    async def get_queue(self, account_id: str, name: str) -> QueueRecord | None: ...

    async def list_queues(self, account_id: str, prefix: str = "", after: str = "",
                          limit: int = 1000) -> list[QueueRecord]: ...

    async def update_queue(self, record: QueueRecord) -> None:
        """Store new ``attributes``/``tags``/``last_modified`` of an existing queue."""
        ...

    async def delete_queue(self, queue_id: int) -> bool:
        """Delete the queue and all its messages."""
        ...

    async def send(self, queue_id: int, messages: list[MessageRecord]) -> list[int]:
        """Store messages (one transaction); returns the sequence number given to each.
        Raise :class:`QueueMissing` if the queue does not exist."""
        ...

    async def receive(self, queue_id: int, now: float, limit: int, visibility_timeout: float,
                      fifo: bool) -> list[MessageRecord]:
        """Atomically claim up to ``limit`` visible messages (``visible_at <= now``), oldest
        first: each gets ``visible_at = now + visibility_timeout``, ``receive_count + 1``,
        ``first_received_at`` if unset, and a fresh ``receipt`` token. For FIFO queues, a
        message is claimable only if no earlier message of its group is in flight or pending
        before it, and messages come in ``sequence`` order within a group."""
        ...

    async def delete_message(self, queue_id: int, message_id: str, receipt: str) -> bool:
        """Delete the message if ``receipt`` is its current receipt token."""
        ...

    async def change_visibility(self, queue_id: int, message_id: str, receipt: str,
                                visible_at: float) -> bool:
        """Set ``visible_at`` if ``receipt`` is current and the message is in flight."""
        ...

    async def count_messages(self, queue_id: int, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed) message counts."""
        ...

    async def purge(self, queue_id: int) -> int: ...


class MetadataStore(Protocol):
    s3: S3Repository
    sqs: SqsRepository

    async def start(self) -> None:
        """Open, migrate the schema to the current version, start background threads."""
        ...

    async def close(self) -> None:
        """Finish queued writes and close."""
        ...

    async def record_blob_intent(self, blob_id: str) -> None:
        """Note, durably, that ``blob_id`` is about to be written; cleared when a record that
        references it commits. Start-up recovery deletes blobs of intents left behind."""
        ...

    async def pending_blob_intents(self) -> list[str]: ...

    async def clear_blob_intents(self, blob_ids: list[str]) -> None: ...

    async def take_garbage(self, limit: int = 1000) -> list[str]:
        """Blob ids no record references any more, for the collector to delete."""
        ...

    async def forget_garbage(self, blob_ids: list[str]) -> None: ...
