"""RestoreObject and the restore worker: archived objects become readable for a while.

A restore request records the restore (``s3_restores``, with the object's ``attrs["Restore"]``
and the ``s3:ObjectRestore:Post`` event, in one transaction) and answers 202. It completes after
the tier's AWS retrieval time divided by the ``restore_speedup`` setting (the test clock makes it
immediate): the worker (:meth:`RestoreOperations.run_restores`) unpacks the archive into a
temporary copy and marks the restore done with ``s3:ObjectRestore:Completed``; when the copy's
``Days`` have passed (rounded up to midnight UTC) it removes the copy with
``s3:ObjectRestore:Delete``. All state is in the metadata store, so a restart resumes pending work.
A second request while one is in progress is ``RestoreAlreadyInProgress``; one after completion
moves the expiry and answers 200. The ``s3:ObjectRestore:Completed`` record carries
``glacierEventData`` (the copy's expiry and the archive class), and listings asked for
``RestoreStatus`` show each archived object's restore (:func:`add_restore_status`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.core.context import Caller, RequestContext
from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_s3 import STATUS_MEMBER
from kumoi.services.s3 import archive, errors, versioning
from kumoi.services.s3.base import S3Base, utc
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.services.s3.lifecycle_rules import due
from kumoi.storage.meta.contract import (
    BucketRecord,
    ListedObject,
    ListedVersion,
    ObjectMissing,
    ObjectRecord,
    S3EventRow,
    S3Repository,
)
from kumoi.storage.meta.contract_s3_archive import RestoreRecord

#: AWS's retrieval times in minutes, by storage class and tier (the upper end of each range AWS
#: gives: Expedited 1-5 minutes, Standard 3-5 hours, Bulk 5-12 hours; Deep Archive Standard within
#: 12 hours, Bulk within 48 hours).
TIER_MINUTES: dict[str, dict[str, int]] = {
    "GLACIER": {"Expedited": 5, "Standard": 5 * 60, "Bulk": 12 * 60},
    "DEEP_ARCHIVE": {"Standard": 12 * 60, "Bulk": 48 * 60},
}
DEFAULT_TIER = "Standard"
#: Restores completed or expired per worker round.
RESTORE_BATCH = 100
#: Restores are requested with at most this many days (S3 accepts up to 30000).
MAX_DAYS = 30000
#: Who background changes are made by, in event records.
SERVICE_PRINCIPAL = "s3.amazonaws.com"


def background_context(bucket: BucketRecord, operation: str) -> RequestContext:
    """The request context of a change S3 makes by itself (lifecycle, restores), for its events."""
    caller = Caller(bucket.account_id, SERVICE_PRINCIPAL, SERVICE_PRINCIPAL, "")
    request_id = secrets.token_hex(8).upper()
    return RequestContext(request_id, "s3", operation, bucket.region, caller, "", "")


def restore_seconds(storage_class: str, tier: str, speedup: int) -> float:
    return TIER_MINUTES[storage_class][tier] * 60.0 / max(speedup, 1)


def _check_request(record: ObjectRecord, restore: dict[str, Any]) -> tuple[int, str]:
    """(days, tier) of a valid restore request for ``record``."""
    if restore.get("Type") == "SELECT" or "SelectParameters" in restore or "OutputLocation" in restore:
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            status=501,
        )
    if archive.storage_class(record) == "INTELLIGENT_TIERING":
        # kumoi keeps Intelligent-Tiering objects in their frequent access tier: already active.
        raise ServiceError(
            "ObjectAlreadyInActiveTierError",
            "This action is not allowed against this storage tier.",
            status=403,
        )
    if not archive.is_archived(record):
        raise ServiceError(
            "InvalidObjectState",
            "Restore is not allowed for the object's current storage class",
            status=403,
            fields={"StorageClass": archive.storage_class(record)},
        )
    if "Days" not in restore:
        raise errors.malformed_xml()
    days = int(restore["Days"])
    if not 1 <= days <= MAX_DAYS:
        raise errors.invalid_argument("Days must be a positive integer", "Days", str(days))
    tier = str((restore.get("GlacierJobParameters") or {}).get("Tier") or restore.get("Tier") or DEFAULT_TIER)
    if tier not in TIER_MINUTES[archive.storage_class(record)]:
        raise errors.invalid_argument(
            f"The {tier} tier is not available for the {archive.storage_class(record)} storage class",
            "Tier",
            tier,
        )
    return days, tier


def restore_status(record: ObjectRecord, now: float) -> dict[str, Any] | None:
    """A listing's ``RestoreStatus`` of an archived object: in progress, or restored until its
    copy expires; None when it has no restore (or the copy has expired)."""
    state = record.attrs.get(archive.RESTORE)
    if not state:
        return None
    if state.get("Ongoing"):
        return {"IsRestoreInProgress": True}
    if not archive.restored(record, now):
        return None
    return {"IsRestoreInProgress": False, "RestoreExpiryDate": utc(float(state["Expiry"]))}


async def add_restore_status(
    repo: S3Repository,
    bucket: str,
    request: Mapping[str, Any],
    entries: Sequence[dict[str, Any]],
    listed: Sequence[ListedObject | ListedVersion],
    now: float,
) -> None:
    """Add ``RestoreStatus`` to the listing ``entries`` (built from ``listed``, in the same order)
    where the request asks for it (``x-amz-optional-object-attributes: RestoreStatus``). Only
    entries of an archive class can have one, so only those are read."""
    if "RestoreStatus" not in (request.get("OptionalObjectAttributes") or ()):
        return
    for entry, item in zip(entries, listed, strict=True):
        if item.storage_class not in archive.ARCHIVE_CLASSES:
            continue
        if isinstance(item, ListedVersion):
            record = await repo.get_version(bucket, item.key, item.version_id)
        else:
            record = await repo.get_object(bucket, item.key)
        status = None if record is None else restore_status(record, now)
        if status is not None:
            entry["RestoreStatus"] = status


class RestoreOperations(S3Base):
    #: AWS's retrieval times are divided by this (the ``restore_speedup`` setting).
    restore_speedup = 60

    async def restore_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        version = request.get("VersionId")
        bucket, record = await self._bucket_and_version(ctx, request["Bucket"], request["Key"], version)
        days, tier = _check_request(record, request.get("RestoreRequest") or {})
        if archive.ARCHIVE not in record.attrs:
            # Written with an archive class, but a crash came before its data moved: move it now.
            await archive.archive_object(self._meta, self._blobs, record)
            wanted = None if version is None else versioning.wire_id(record.version_id)
            bucket, record = await self._bucket_and_version(ctx, bucket.name, record.key, wanted)
            if archive.ARCHIVE not in record.attrs:
                raise errors.conditional_conflict()
        state = record.attrs.get(archive.RESTORE) or {}
        now = self._clock.now()
        archive_id = record.blob_id or ""
        if state and not state.get("Ongoing"):
            state = {**state, "Days": days, "Expiry": due(now, days)}
            if await self._meta.s3_archive.extend_restore(
                archive_id, state["Expiry"], {archive.RESTORE: state}
            ):
                return {}
        if state.get("Ongoing"):
            raise ServiceError(
                "RestoreAlreadyInProgress", "Object restore is already in progress", status=409
            )
        ready = now + restore_seconds(archive.storage_class(record), tier, self.restore_speedup)
        pending = {"Ongoing": True, "Tier": tier, "Days": days, "Ready": ready}
        events = self.events_for(ctx, bucket, "s3:ObjectRestore:Post", record)
        job = RestoreRecord(archive_id, bucket.name, record.key, ready, version_id=record.version_id)
        try:
            existing = await self._meta.s3_archive.start_restore(
                job, {archive.RESTORE: pending}, events=events
            )
        except ObjectMissing:
            raise await self.missing_key(ctx, bucket.name, record.key) from None
        if existing is not None:
            if existing.expires_at is None:
                raise ServiceError(
                    "RestoreAlreadyInProgress", "Object restore is already in progress", status=409
                )
            return {}
        self._events.submit(events)
        return {STATUS_MEMBER: 202}

    #: One round at a time (the periodic task and the admin endpoint may ask at once).
    _restoring: asyncio.Lock | None = None

    async def run_restores(self) -> dict[str, int]:
        """Complete the restores that are due and remove expired copies (one batch of each)."""
        if self._restoring is None:
            self._restoring = asyncio.Lock()
        async with self._restoring:
            completed = await self._complete_due()
            expired = await self._expire_copies()
        return {"restores_completed": completed, "restores_expired": expired}

    async def _complete_due(self) -> int:
        done = 0
        now = self._clock.now()
        for job in await self._meta.s3_archive.due_restores(now, RESTORE_BATCH):
            bucket, record = await self._archived(job)
            if bucket is None or record is None:
                await self._meta.s3_archive.end_restore(job.archive_id, ())
                continue
            state = dict(record.attrs.get(archive.RESTORE) or {})
            copies = await archive.restore_copies(self._meta, self._blobs, record)
            expiry = due(self._clock.now(), int(state.get("Days", 1)))
            state.update(Ongoing=False, Expiry=expiry, Copies=[[part.blob_id, part.size] for part in copies])
            state.pop("Ready", None)
            completed = (expiry, archive.storage_class(record))
            events = self._background_events(bucket, "s3:ObjectRestore:Completed", record, completed)
            if await self._meta.s3_archive.finish_restore(
                job.archive_id, copies, expiry, {archive.RESTORE: state}, events=events
            ):
                self._events.submit(events)
                done += 1
        return done

    async def _expire_copies(self) -> int:
        done = 0
        for job in await self._meta.s3_archive.expired_restores(self._clock.now(), RESTORE_BATCH):
            bucket, record = await self._archived(job)
            events: list[S3EventRow] = []
            if bucket is not None and record is not None:
                events = self._background_events(bucket, "s3:ObjectRestore:Delete", record)
            if await self._meta.s3_archive.end_restore(job.archive_id, (archive.RESTORE,), events=events):
                self._events.submit(events)
            done += 1
        return done

    async def _archived(self, job: RestoreRecord) -> tuple[BucketRecord | None, ObjectRecord | None]:
        """The bucket, and the version a restore is for if it still holds the restore's archive."""
        bucket = await self._meta.s3.get_bucket(job.bucket)
        if bucket is None:
            return None, None
        record = await self._meta.s3.get_version(job.bucket, job.key, job.version_id)
        if record is None or record.blob_id != job.archive_id:
            return bucket, None
        return bucket, record

    def _background_events(
        self,
        bucket: BucketRecord,
        event: str,
        record: ObjectRecord,
        completed: tuple[float, str] | None = None,
    ) -> list[S3EventRow]:
        """The rows of a restore event S3 raises by itself; ``completed``: the restored copy's
        expiry and the archive class, which an ``s3:ObjectRestore:Completed`` record carries."""
        ctx = background_context(bucket, event)
        version = None if versioning.status(bucket) is None else versioning.wire_id(record.version_id)
        expiry, storage_class = completed or (None, None)
        facts = ObjectFacts(record.key, record.size, record.etag, version, expiry, storage_class)
        return self._events.prepare(ctx, bucket, event, facts)
