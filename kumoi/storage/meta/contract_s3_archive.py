"""The metadata S3's lifecycle, archive tiers and restores need beyond :class:`S3Repository`.

An archived object (storage class GLACIER or DEEP_ARCHIVE) keeps its row; its data columns point
at one *archive blob* (the object's stored bytes, compressed) instead of its original blobs, which
:meth:`S3ArchiveRepository.archive_object` swaps in one transaction. A restore is a row keyed by
that archive blob's id: pending until ``ready_at``, then holding the restored copy's blobs until
``expires_at``. The row owns the copy's blobs, so they are queued as garbage when the restore ends
whether or not the object still exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kumoi.storage.meta.contract import BlobPart, BucketRecord, S3EventRow


@dataclass(slots=True)
class RestoreRecord:
    """A restore of the archived object whose archive blob is ``archive_id``: ongoing while
    ``expires_at`` is None, else done with the temporary copy ``copies``."""

    archive_id: str
    bucket: str
    key: str
    ready_at: float
    expires_at: float | None = None
    copies: list[BlobPart] | None = None
    #: The archived version (None: the null version, which every unversioned object is).
    version_id: str | None = None


@dataclass(slots=True)
class LifecycleChange:
    """A lifecycle action on a current object: delete it (``storage_class`` None) or set its
    storage class, if it is still the object (``etag``, ``last_modified``) evaluated."""

    key: str
    etag: str
    last_modified: float
    storage_class: str | None = None
    events: Sequence[S3EventRow] = field(default_factory=list)


class S3ArchiveRepository(Protocol):
    async def lifecycle_buckets(self, start: str, limit: int) -> list[BucketRecord]:
        """Buckets (of every account) with a lifecycle configuration, names >= ``start``, in order."""
        ...

    async def archive_object(
        self,
        bucket: str,
        key: str,
        etag: str,
        blob_ids: Sequence[str],
        archive_id: str,
        patch: Mapping[str, Any],
        *,
        version_id: str | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> None:
        """Make the version ``version_id`` of the key, current or noncurrent (still with ``etag``
        and exactly ``blob_ids``), reference the archive blob ``archive_id`` instead of its data:
        queue its blobs as garbage, clear the archive's write intent, apply ``patch`` to its attrs,
        store ``events``, in one transaction. Raise ``ObjectMissing`` / ``ConditionFailed`` when
        it is gone or changed."""
        ...

    async def apply_changes(self, bucket: str, changes: Sequence[LifecycleChange]) -> list[bool]:
        """Apply lifecycle changes to current objects in one transaction: each only if its object
        still has the ETag and modification time it was evaluated with (its blobs queued as
        garbage when deleted, its ``events`` stored when applied); whether each was applied."""
        ...

    async def start_restore(
        self, record: RestoreRecord, patch: Mapping[str, Any], *, events: Sequence[S3EventRow] = ()
    ) -> RestoreRecord | None:
        """Insert the pending restore and apply ``patch`` to the attrs of the version that holds
        ``record.archive_id``, unless a restore of that archive exists: then return it unchanged.
        Raise ``ObjectMissing`` if no version of the key holds the archive."""
        ...

    async def get_restore(self, archive_id: str) -> RestoreRecord | None: ...

    async def due_restores(self, now: float, limit: int) -> list[RestoreRecord]:
        """Ongoing restores whose ``ready_at`` has come, earliest first."""
        ...

    async def finish_restore(
        self,
        archive_id: str,
        copies: Sequence[BlobPart],
        expires_at: float,
        patch: Mapping[str, Any],
        *,
        events: Sequence[S3EventRow] = (),
    ) -> bool:
        """Mark the restore done with its copy (clearing the copy's write intents) and patch the
        object's attrs; if the object no longer holds the archive, drop the restore and queue the
        copy as garbage instead and return False."""
        ...

    async def extend_restore(self, archive_id: str, expires_at: float, patch: Mapping[str, Any]) -> bool:
        """Move a done restore's expiry and patch the object's attrs; False if there is none."""
        ...

    async def expired_restores(self, now: float, limit: int) -> list[RestoreRecord]:
        """Done restores whose copy expired at or before ``now``, earliest first."""
        ...

    async def end_restore(
        self, archive_id: str, remove: Sequence[str], *, events: Sequence[S3EventRow] = ()
    ) -> bool:
        """Drop the restore, queue its copy as garbage and remove the ``remove`` attrs of the
        object holding the archive (storing ``events`` only if there is one); False if the
        object was gone."""
        ...
