"""The metadata store contract that services program against.

Every implementation (SQLite now, PostgreSQL later) passes the same contract tests
(``tests/storage_contract``). Writes are atomic per call and durable when the call returns.
Records are plain dataclasses; ``attrs``/``config`` dictionaries hold JSON-serializable
documents whose meaning belongs to the service that writes them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from kumoi.storage.meta.contract_iam import IamRepository
from kumoi.storage.meta.contract_sns import SnsRepository

if TYPE_CHECKING:
    from kumoi.storage.meta.contract_s3_archive import S3ArchiveRepository


@dataclass(slots=True)
class BucketRecord:
    name: str
    account_id: str
    region: str
    created: float
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BlobPart:
    """One blob of a multipart object's manifest: the blob and how many bytes it holds."""

    blob_id: str
    size: int


@dataclass(slots=True)
class ObjectRecord:
    """One S3 object. Its bytes are in the blob store (``blob_id``), ``inline``, or, for a
    completed multipart upload, the concatenation of the ``manifest``'s blobs (never copied)."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float
    blob_id: str | None = None
    inline: bytes | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    manifest: list[BlobPart] | None = None
    #: The version's id; None for the ``null`` version (every object of a bucket that never had
    #: versioning, and objects written while it was suspended).
    version_id: str | None = None
    #: A delete marker (no bytes: size 0, empty ETag); only ever a noncurrent or latest version.
    delete_marker: bool = False

    def blob_ids(self) -> list[str]:
        """Every blob this record references."""
        if self.manifest is not None:
            return [part.blob_id for part in self.manifest]
        return [] if self.blob_id is None else [self.blob_id]


class ListedObject(NamedTuple):
    """What a listing shows of one object (a tuple: a page builds a thousand of them).

    ``checksums`` names the stored checksum algorithms as listings do, then the checksum type
    (``"CRC32,SHA256:FULL_OBJECT"``); ``storage_class`` and ``owner`` are the stored attributes;
    each ``None`` when absent."""

    key: str
    size: int
    etag: str
    last_modified: float
    blob_id: str | None
    storage_class: str | None
    checksums: str | None
    owner: str | None


#: How the ``null`` version id is spelled on the wire and in version markers.
NULL_VERSION = "null"


class ListedVersion(NamedTuple):
    """One entry of a version listing: a version or a delete marker (``delete_marker``) of
    ``key``. ``version_id`` is None for the null version. ``is_latest``: the key's current
    version (or the delete marker that hides it). ``superseded``: when the next newer version
    was written, making this one noncurrent (None while it is the latest); lifecycle's
    ``NoncurrentDays`` count from it. ``storage_class``, ``checksums`` and ``owner`` as in
    :class:`ListedObject`."""

    key: str
    version_id: str | None
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: float
    superseded: float | None
    storage_class: str | None
    checksums: str | None
    owner: str | None


@dataclass(frozen=True, slots=True)
class VersionDelete:
    """One entry of :meth:`S3Repository.delete_versions`: with ``marker`` set, add that delete
    marker (as :meth:`S3Repository.add_delete_marker`); otherwise delete the version
    ``version_id`` of ``key`` for good (as :meth:`S3Repository.delete_version`, with ``expect``)."""

    key: str
    version_id: str | None = None
    marker: ObjectRecord | None = None
    expect: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PutCondition:
    """Preconditions a write checks inside its own transaction (S3 conditional writes).

    ``if_match``: the current object's ETag must equal it (absent object: :class:`ObjectMissing`).
    ``if_none_match``: no object may exist under the key. ``same_blobs``: the current object must
    still reference exactly these blobs (a copy onto itself that reuses them).
    """

    if_match: str | None = None
    if_none_match: bool = False
    same_blobs: tuple[str, ...] | None = None


@dataclass(slots=True)
class UploadRecord:
    """A multipart upload in progress; ``attrs`` holds what CreateMultipartUpload asked for."""

    upload_id: str
    bucket: str
    key: str
    initiated: float
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PartRecord:
    upload_id: str
    part_number: int
    size: int
    etag: str
    blob_id: str
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)


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
    #: FIFO: the key :meth:`SqsRepository.send` deduplicates on (the deduplication id, scoped
    #: to the message group when the queue deduplicates per group); None for no deduplication.
    dedup_key: str | None = None


@dataclass(frozen=True, slots=True)
class Redrive:
    """A queue's redrive policy as a receive applies it: a message already received
    ``max_receive_count`` times moves to the dead-letter queue instead of being delivered."""

    dead_letter_queue_id: int
    max_receive_count: int
    #: The source queue's ARN, recorded on moved messages (``DeadLetterQueueSourceArn``).
    source_arn: str


class VisibilityChange(enum.Enum):
    """What :meth:`SqsRepository.change_visibility` did."""

    CHANGED = "changed"
    #: The receipt is current but the message is visible, not in flight.
    NOT_IN_FLIGHT = "not in flight"
    #: No message with that id and current receipt (deleted, or received again since).
    NOT_FOUND = "not found"


@dataclass(frozen=True, slots=True)
class ReceiveAttempt:
    """A FIFO receive's ``ReceiveRequestAttemptId``: a retry with the same id before ``expires_at``
    gets the messages (and receipts) the first attempt claimed, if none of them changed since."""

    attempt_id: str
    expires_at: float


@dataclass(slots=True)
class MoveTaskRecord:
    """A message move task (StartMessageMoveTask): its parameters, progress and status
    (``RUNNING``, ``CANCELLING``, ``COMPLETED``, ``CANCELLED`` or ``FAILED``)."""

    handle: str
    source_arn: str
    source_queue_id: int
    destination_arn: str | None
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None


@dataclass(slots=True)
class S3EventRow:
    """An S3 event notification waiting in the outbox: the message ``body`` for the queue or
    topic ``destination`` (an ARN); ``base_url`` is kumoi's endpoint as the writer saw it (SNS
    puts links in the envelope). ``row_id`` is set once stored."""

    destination: str
    body: str
    base_url: str = ""
    row_id: int = 0


class BucketExists(Exception):
    """``create_bucket`` found the name taken; ``existing`` is the bucket that holds it."""

    def __init__(self, existing: BucketRecord) -> None:
        super().__init__(existing.name)
        self.existing = existing


class BucketNotEmpty(Exception):
    pass


class BucketMissing(Exception):
    """``put_object`` found no bucket of that name: it was deleted while the object was written."""


class ObjectMissing(Exception):
    """A conditional write or attribute update found no object under the key."""


class VersionMissing(Exception):
    """A version listing's version marker names no version of its key."""


class ConditionFailed(Exception):
    """A conditional write's precondition does not hold (the object changed or exists)."""


class UploadMissing(Exception):
    """The multipart upload does not exist (never did, completed or aborted)."""


class PartsChanged(Exception):
    """A completion's parts were re-uploaded while it was being prepared."""


class QueueMissing(Exception):
    """``send`` found no queue of that id: it was deleted while the messages were prepared."""


class S3Repository(Protocol):
    async def create_bucket(self, record: BucketRecord) -> None:
        """Insert a bucket; raise :class:`BucketExists` if the name is taken (by anyone)."""
        ...

    async def get_bucket(self, name: str) -> BucketRecord | None: ...

    async def list_buckets(
        self, account_id: str, prefix: str = "", after: str = "", limit: int = 10000
    ) -> list[BucketRecord]:
        """The account's buckets ordered by name, names > ``after`` starting with ``prefix``."""
        ...

    async def set_bucket_setting(self, name: str, setting: str, value: Any) -> None:
        """Set one top-level entry of a bucket's configuration, leaving the others as they are
        at the moment of the write: concurrent Puts of different bucket subresources never undo
        each other."""
        ...

    async def remove_bucket_setting(self, name: str, setting: str) -> None:
        """Remove one top-level entry of a bucket's configuration (as atomically)."""
        ...

    async def delete_bucket(self, name: str) -> bool:
        """Delete an empty bucket (no versions, no delete markers); False if absent; raise
        :class:`BucketNotEmpty` otherwise."""
        ...

    async def put_object(
        self, record: ObjectRecord, *, events: Sequence[S3EventRow] = (), versioned: bool = False
    ) -> None:
        """Insert or atomically replace an object. The replaced object's blob (if any) is queued
        for garbage collection, ``record.blob_id``'s write intent is cleared and ``events`` are
        stored in the outbox (each ``row_id`` set), in the same transaction. Raise
        :class:`BucketMissing` if the bucket does not exist.

        ``versioned`` (the bucket's versioning is Enabled or Suspended): ``record`` becomes the
        key's latest version; the version it supersedes is kept as a noncurrent version unless it
        has ``record.version_id`` (only the null version can: a write while Suspended), and any
        other version with that id is deleted for good (its blobs queued as garbage). Versions
        never share blobs. Without ``versioned`` the store behaves as if versioning did not exist
        (and costs no more)."""
        ...

    async def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        """The key's current version, None if it has none or its latest is a delete marker."""
        ...

    async def get_bucket_and_object(
        self, bucket: str, key: str
    ) -> tuple[BucketRecord | None, ObjectRecord | None]:
        """The bucket and its object in one read (a GET needs both: ownership, then the object)."""
        ...

    async def delete_object(
        self, bucket: str, key: str, *, events: Sequence[S3EventRow] = ()
    ) -> ObjectRecord | None:
        """Delete and return the object (its blob queued for garbage collection), or None;
        ``events`` are stored in the outbox in the same transaction if the object existed."""
        ...

    async def list_objects(
        self, bucket: str, prefix: str = "", after: str = "", limit: int = 1000, *, with_owner: bool = True
    ) -> list[ListedObject]:
        """Objects with keys > ``after`` starting with ``prefix``, in UTF-8 byte order of keys.
        Costs O(limit) whatever the bucket size. Without ``with_owner`` their ``owner`` is None
        (a listing that does not show owners need not read them)."""
        ...

    def read_ahead_objects(
        self, bucket: str, prefix: str, after: str, limit: int, *, with_owner: bool = True
    ) -> None:
        """A hint that :meth:`list_objects` with these arguments comes next: a store may start
        reading it now (while the client reads the page before), as long as what that call
        returns is still exactly the store's state when it is made."""
        ...

    async def get_version(self, bucket: str, key: str, version_id: str | None) -> ObjectRecord | None:
        """The version ``version_id`` (None: the null version) of ``key``, current, noncurrent or
        a delete marker (``delete_marker`` set); None if there is no such version."""
        ...

    async def latest_version(self, bucket: str, key: str) -> ObjectRecord | None:
        """The key's latest version, a delete marker included (what a GET without a version id
        reads in a versioned bucket when :meth:`get_object` finds nothing); None if no versions."""
        ...

    async def add_delete_marker(self, marker: ObjectRecord, *, events: Sequence[S3EventRow] = ()) -> None:
        """Make ``marker`` (``delete_marker`` set) the key's latest version, as :meth:`put_object`
        with ``versioned`` does for a version: the current version becomes noncurrent, or, if it
        has the marker's version id (the null version, while Suspended), is deleted for good.
        Raise :class:`BucketMissing` if the bucket does not exist."""
        ...

    async def delete_version(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        *,
        expect: Mapping[str, Any] | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> ObjectRecord | None:
        """Delete one version (or delete marker) for good and return it, or None if there is no
        such version (``events`` are stored only if there was). Its blobs are queued as garbage;
        if it was the latest, the next newer remaining version becomes the latest. With
        ``expect``, raise :class:`ConditionFailed` (nothing deleted) if a member of the version's
        ``attrs`` named there no longer has that value (None: absent): the Object Lock state a
        caller checked stays what it checked until the delete commits."""
        ...

    async def delete_versions(
        self,
        bucket: str,
        deletes: Sequence[VersionDelete],
        *,
        events: Mapping[int, Sequence[S3EventRow]] | None = None,
    ) -> list[ObjectRecord | None]:
        """Several :meth:`add_delete_marker` / :meth:`delete_version` in one transaction, in
        order; the result has, per entry, the marker added or the version deleted (None if
        absent). ``events[i]`` are stored for entry ``i`` if it changed something. Raise
        :class:`BucketMissing` (nothing done) if a marker is to be added and the bucket is gone,
        :class:`ConditionFailed` (nothing done) if an entry's ``expect`` does not hold."""
        ...

    async def patch_version_attrs(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> ObjectRecord:
        """Change top-level members of one version's ``attrs`` in place (a value of None removes
        the member) and return the updated version. Raise :class:`ObjectMissing` if there is no
        such version or it is a delete marker, :class:`ConditionFailed` if a member named in
        ``expect`` does not have that value (None: absent) any more."""
        ...

    async def list_versions(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        version_marker: str = "",
        limit: int = 1000,
    ) -> list[ListedVersion]:
        """Versions and delete markers of keys starting with ``prefix``, in S3's order: keys in
        UTF-8 byte order, each key's versions newest first. Starts after ``key_marker``'s last
        version, or, with ``version_marker`` (:data:`NULL_VERSION` for the null version), right
        after that version of ``key_marker`` (raise :class:`VersionMissing` if it has none such).
        Costs O(limit) whatever the number of versions."""
        ...

    def read_ahead_versions(
        self, bucket: str, prefix: str, key_marker: str, version_marker: str, limit: int
    ) -> None:
        """A hint that :meth:`list_versions` with these arguments comes next (see
        :meth:`read_ahead_objects`)."""
        ...

    async def put_object_if(
        self,
        record: ObjectRecord,
        condition: PutCondition,
        *,
        events: Sequence[S3EventRow] = (),
        versioned: bool = False,
    ) -> None:
        """:meth:`put_object` after checking ``condition`` (against the current version) in the
        same transaction: raise :class:`ObjectMissing` or :class:`ConditionFailed` (nothing
        written) when it fails."""
        ...

    async def delete_objects(
        self, bucket: str, keys: list[str], *, events: Mapping[str, Sequence[S3EventRow]] | None = None
    ) -> list[str]:
        """Delete several objects in one transaction (blobs queued as garbage); return the keys
        that existed. ``events[key]`` are stored in the outbox, in that transaction, for each key
        that existed."""
        ...

    async def update_object_attrs(
        self, bucket: str, key: str, etag: str, attrs: dict[str, Any], *, events: Sequence[S3EventRow] = ()
    ) -> None:
        """Replace the object's ``attrs`` (and store ``events``) if its ETag is still ``etag``;
        raise :class:`ObjectMissing` if it is absent, :class:`ConditionFailed` if it changed."""
        ...

    async def create_upload(self, record: UploadRecord) -> None:
        """Start a multipart upload; raise :class:`BucketMissing` if the bucket is gone."""
        ...

    async def get_upload(self, upload_id: str) -> UploadRecord | None: ...

    async def put_part(self, record: PartRecord) -> None:
        """Insert or replace a part (the replaced part's blob queued as garbage) and clear the
        new blob's write intent; raise :class:`UploadMissing` if the upload is gone."""
        ...

    async def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
        """Parts with numbers > ``after``, in order."""
        ...

    async def list_uploads(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        limit: int = 1000,
    ) -> list[UploadRecord]:
        """Uploads ordered by (key, upload id) after the markers, keys starting with ``prefix``.
        Without ``upload_id_marker``, uploads of ``key_marker`` itself are skipped (as S3 does)."""
        ...

    async def abort_upload(self, upload_id: str) -> bool:
        """Delete the upload and queue its parts' blobs as garbage; False if it did not exist."""
        ...

    async def complete_upload(
        self,
        upload_id: str,
        record: ObjectRecord,
        condition: PutCondition | None = None,
        *,
        events: Sequence[S3EventRow] = (),
        versioned: bool = False,
    ) -> None:
        """Atomically turn an upload into ``record``, whose ``manifest`` lists the chosen parts'
        blobs: check the upload exists (:class:`UploadMissing`), its chosen parts still have
        those blobs (:class:`PartsChanged`) and ``condition`` (as :meth:`put_object_if`); drop
        the upload, queue unused parts' and the replaced object's blobs as garbage, store
        ``events`` in the outbox. ``versioned`` as in :meth:`put_object`."""
        ...

    async def uploads_initiated_before(self, cutoff: float, limit: int = 1000) -> list[UploadRecord]:
        """Uploads started before ``cutoff``, oldest first (for expiry)."""
        ...

    async def pending_events(self, after: int, limit: int) -> list[S3EventRow]:
        """Up to ``limit`` outbox rows with ids above ``after``, in id order."""
        ...

    async def finish_events(self, row_ids: list[int]) -> None:
        """Delete delivered (or abandoned) outbox rows."""
        ...


class SqsRepository(Protocol):
    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        """Insert the queue, or return the existing one of that account and name unchanged."""
        ...

    async def get_queue(self, account_id: str, name: str) -> QueueRecord | None: ...

    async def list_queues(
        self, account_id: str, prefix: str = "", after: str = "", limit: int = 1000
    ) -> list[QueueRecord]: ...

    async def update_queue(self, record: QueueRecord) -> None:
        """Store new ``attributes``/``tags``/``last_modified`` of an existing queue."""
        ...

    async def delete_queue(self, queue_id: int) -> bool:
        """Delete the queue, all its messages and the move tasks it is the source of."""
        ...

    async def send(
        self, queue_id: int, messages: list[MessageRecord], dedup_window: float = 0.0
    ) -> list[tuple[str, int]]:
        """Store messages (one transaction); return each one's (message id, sequence number).

        A message with a ``dedup_key`` seen in this queue within the last ``dedup_window``
        seconds (by ``sent_at``) is not stored: its pair is the original message's. Raise
        :class:`QueueMissing` if the queue does not exist."""
        ...

    async def receive(
        self,
        queue_id: int,
        now: float,
        limit: int,
        visibility_timeout: float,
        fifo: bool,
        *,
        sent_after: float | None = None,
        redrive: Redrive | None = None,
        attempt: ReceiveAttempt | None = None,
    ) -> list[MessageRecord]:
        """Atomically claim up to ``limit`` visible messages (``visible_at <= now``), oldest
        first: each gets ``visible_at = now + visibility_timeout``, ``receive_count + 1``,
        ``first_received_at`` if unset, and a fresh ``receipt`` token. For FIFO queues, a
        message is claimable only if no earlier message of its group is in flight or pending
        before it, and messages come in ``sequence`` order within a group.

        In the same transaction: messages sent before ``sent_after`` (past retention) are
        deleted, and with ``redrive`` a message about to be claimed that was already received
        ``max_receive_count`` times moves to the dead-letter queue instead (visible there at
        once, keeping its id, body, sent time and receive count).

        With ``attempt``: if an unexpired receive with that attempt id claimed messages in this
        queue and every one of them is still in flight with the receipt and visibility that
        receive gave it, return those messages again (same receipts, receive counts unchanged)
        with their visibility reset to ``now + visibility_timeout``; otherwise claim as usual and
        remember what was claimed under the attempt id until ``attempt.expires_at``."""
        ...

    async def next_visible_at(self, queue_id: int, now: float) -> float | None:
        """The earliest ``visible_at`` after ``now`` (in-flight or delayed message), or None:
        when a long poll that found nothing should look again."""
        ...

    async def delete_message(self, queue_id: int, sequence: int, receipt: str) -> bool:
        """Delete the message stored as ``sequence`` if ``receipt`` is its current receipt token."""
        ...

    async def delete_messages(self, queue_id: int, receipts: list[tuple[int, str]]) -> list[bool]:
        """:meth:`delete_message` for several (sequence, receipt) pairs in one transaction: True
        for each pair whose message was deleted (a pair named twice is True both times)."""
        ...

    async def change_visibility(
        self, queue_id: int, sequence: int, receipt: str, visible_at: float
    ) -> VisibilityChange:
        """Set ``visible_at`` if ``receipt`` is current and the message is in flight."""
        ...

    async def change_visibilities(
        self, queue_id: int, changes: list[tuple[int, str, float]]
    ) -> list[VisibilityChange]:
        """:meth:`change_visibility` for several (sequence, receipt, visible_at) in one transaction."""
        ...

    async def count_messages(self, queue_id: int, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed) message counts."""
        ...

    async def purge(self, queue_id: int) -> int: ...

    async def peek_visible(self, queue_id: int, now: float, limit: int) -> list[MessageRecord]:
        """Up to ``limit`` visible messages, oldest first, without claiming them."""
        ...

    async def move_messages(self, queue_id: int, moves: list[tuple[int, int]], now: float) -> int:
        """Move messages (by sequence) to other queues, (sequence, destination queue id) each,
        if they are still visible in ``queue_id``: visible at ``now`` there, receive count reset.
        Returns how many moved."""
        ...

    async def expire(self, now: float, limit: int = 1000) -> int:
        """Delete up to ``limit`` messages past their queue's ``MessageRetentionPeriod`` and the
        deduplication entries (messages and receive attempts) older than ``now``; return how many
        messages were deleted."""
        ...

    async def create_move_task(self, record: MoveTaskRecord, keep: int) -> None:
        """Store a new move task; forget the source queue's finished tasks beyond the ``keep``
        most recent ones."""
        ...

    async def update_move_task(self, handle: str, status: str, failure: str | None) -> None:
        """Set a move task's status and failure reason."""
        ...

    async def move_task_messages(
        self, handle: str, queue_id: int, moves: list[tuple[int, int]], now: float
    ) -> int:
        """:meth:`move_messages` for a move task: the task's moved count grows by the number
        moved in the same transaction. Returns how many moved."""
        ...

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTaskRecord]:
        """The source queue's most recent move tasks, newest first."""
        ...

    async def unfinished_move_tasks(self) -> list[MoveTaskRecord]:
        """Every task still ``RUNNING`` or ``CANCELLING`` (to resume after a restart), oldest first."""
        ...


class MetadataStore(Protocol):
    s3: S3Repository
    s3_archive: S3ArchiveRepository
    sqs: SqsRepository
    iam: IamRepository
    sns: SnsRepository

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
