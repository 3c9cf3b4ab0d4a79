"""DeleteObject and DeleteObjects where versions are involved: a bucket with versioning, or a
request that names a version.

Without a version id a delete adds a delete marker (Enabled: with a fresh version id; Suspended:
the null one, replacing the null version) and fires ``s3:ObjectRemoved:DeleteMarkerCreated``.
With one it removes that version for good (``s3:ObjectRemoved:Delete``); if it was the latest,
the next newer version becomes current. A version under Object Lock retention or legal hold
cannot be removed (:meth:`VersionedDeletes.check_removable`), but a delete marker can always be
added over it. The lock state a delete was allowed under is checked again inside the delete's
transaction (the store's ``expect``), so a retention or legal hold set meanwhile still holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors, object_lock, versioning
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.storage.meta.contract import (
    BucketMissing,
    BucketRecord,
    ConditionFailed,
    ObjectRecord,
    S3EventRow,
    VersionDelete,
)

REMOVED = "s3:ObjectRemoved:Delete"
MARKER_CREATED = "s3:ObjectRemoved:DeleteMarkerCreated"
#: Attempts at a version delete that keeps finding the version's lock changed under it.
LOCK_ATTEMPTS = 5


class VersionedDeletes(S3Base):
    def new_marker(self, ctx: RequestContext, bucket: BucketRecord, key: str) -> ObjectRecord:
        """A delete marker for ``key``, with the version id a write into ``bucket`` gets."""
        marker = ObjectRecord(
            bucket.name, key, 0, "", self._clock.now(), attrs={"Owner": ctx.account_id}, delete_marker=True
        )
        versioning.assign(bucket, marker)
        return marker

    def check_removable(self, record: ObjectRecord, request: dict[str, Any]) -> Mapping[str, Any] | None:
        """Refuse to remove a version Object Lock protects (retention not bypassed, legal hold);
        else the lock state the removal must still find when it commits (its ``expect``)."""
        if record.delete_marker:
            return None
        object_lock.check_removable(record.attrs, request, self._clock.now())
        return object_lock.lock_state(record.attrs)

    async def delete_versioned(
        self, ctx: RequestContext, bucket: BucketRecord, request: dict[str, Any]
    ) -> dict[str, Any]:
        """DeleteObject in a bucket with versioning, or naming a version."""
        key = request["Key"]
        if "VersionId" not in request:
            marker = self.new_marker(ctx, bucket, key)
            shown = versioning.wire_id(marker.version_id)
            events = self._events.prepare(ctx, bucket, MARKER_CREATED, ObjectFacts(key, version_id=shown))
            try:
                await self._meta.s3.add_delete_marker(marker, events=events)
            except BucketMissing:
                raise errors.no_such_bucket(bucket.name) from None
            self._events.submit(events)
            return {"DeleteMarker": True, "VersionId": shown}
        raw = str(request["VersionId"])
        wanted = versioning.requested_id(raw)
        for _attempt in range(LOCK_ATTEMPTS):
            existing = await self._meta.s3.get_version(bucket.name, key, wanted)
            if existing is None:
                return {"VersionId": raw}
            expect = self.check_removable(existing, request)
            events = self._events.prepare(ctx, bucket, REMOVED, ObjectFacts(key, version_id=raw))
            try:
                removed = await self._meta.s3.delete_version(
                    bucket.name, key, wanted, expect=expect, events=events
                )
            except ConditionFailed:
                continue  # its lock changed since it was checked: check again
            self._events.submit(events)
            output: dict[str, Any] = {"VersionId": raw}
            if removed is not None and removed.delete_marker:
                output["DeleteMarker"] = True
            return output
        raise errors.conditional_conflict()

    async def delete_many_versioned(
        self,
        ctx: RequestContext,
        bucket: BucketRecord,
        request: dict[str, Any],
        entries: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """DeleteObjects' entries (key and maybe version id, keys already checked) in a bucket with
        versioning or naming versions: (the ``Deleted`` entries, the ``Errors`` entries). All
        awaits come before the events are prepared, so their sequencers follow commit order."""
        for _attempt in range(LOCK_ATTEMPTS):
            checked: list[tuple[dict[str, Any], str | None, Mapping[str, Any] | None]] = []
            failures: list[dict[str, str]] = []
            for entry in entries:
                if "VersionId" not in entry:
                    checked.append((entry, None, None))
                    continue
                raw = str(entry["VersionId"])
                try:
                    wanted = versioning.requested_id(raw)
                    existing = await self._meta.s3.get_version(bucket.name, entry["Key"], wanted)
                    expect = None if existing is None else self.check_removable(existing, request)
                except ServiceError as error:
                    failures.append(
                        {"Key": entry["Key"], "VersionId": raw, "Code": error.code, "Message": error.message}
                    )
                    continue
                checked.append((entry, wanted, expect))
            try:
                return await self._delete_checked(ctx, bucket, checked), failures
            except ConditionFailed:
                continue  # a lock changed since it was checked: check every entry again
        raise errors.conditional_conflict()

    async def _delete_checked(
        self,
        ctx: RequestContext,
        bucket: BucketRecord,
        checked: list[tuple[dict[str, Any], str | None, Mapping[str, Any] | None]],
    ) -> list[dict[str, Any]]:
        deletes: list[VersionDelete] = []
        shown: list[dict[str, Any]] = []
        events: dict[int, list[S3EventRow]] = {}
        for entry, wanted, expect in checked:
            key = entry["Key"]
            if "VersionId" not in entry:
                marker = self.new_marker(ctx, bucket, key)
                marker_id = versioning.wire_id(marker.version_id)
                rows = self._events.prepare(
                    ctx, bucket, MARKER_CREATED, ObjectFacts(key, version_id=marker_id)
                )
                deletes.append(VersionDelete(key, marker=marker))
                shown.append({"Key": key, "DeleteMarker": True, "DeleteMarkerVersionId": marker_id})
            else:
                raw = str(entry["VersionId"])
                rows = self._events.prepare(ctx, bucket, REMOVED, ObjectFacts(key, version_id=raw))
                deletes.append(VersionDelete(key, wanted, expect=expect))
                shown.append({"Key": key, "VersionId": raw})
            if rows:
                events[len(deletes) - 1] = rows
        try:
            results = await self._meta.s3.delete_versions(bucket.name, deletes, events=events)
        except BucketMissing:
            raise errors.no_such_bucket(bucket.name) from None
        for rows in events.values():
            self._events.submit(rows)
        for item, result in zip(shown, results, strict=True):
            if "VersionId" in item and result is not None and result.delete_marker:
                item["DeleteMarker"] = True
                item["DeleteMarkerVersionId"] = item["VersionId"]
        return shown
