"""The lifecycle worker: applies each bucket's lifecycle rules, a bounded amount per pass.

A pass walks the buckets that have a configuration and, in each, the keys under the prefixes its
enabled rules name (pages of :data:`PAGE` from the store, never a whole bucket). For current
objects it expires (an unversioned bucket deletes, a versioned one adds a delete marker, as a
DELETE would) or transitions them (a storage class change; to GLACIER or DEEP_ARCHIVE the data
moves to the archive tier). In versioned buckets it also expires noncurrent versions
(``NoncurrentDays`` after they became noncurrent, keeping ``NewerNoncurrentVersions``) and delete
markers left with no versions. Incomplete multipart uploads are aborted
``DaysAfterInitiation`` after they began. Every change is conditional on the object being the
one evaluated, and stores its event (``s3:LifecycleExpiration:*``, ``s3:LifecycleTransition``)
in its own transaction.

A pass examines at most ``budget`` entries (or, first thing in a pass, all versions of one key
that has more) and remembers where it stopped, so the next pass goes on from there;
:meth:`LifecycleWorker.run_pass` answers what it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kumoi.core.clock import Clock
from kumoi.services.s3 import archive, object_lock, versioning
from kumoi.services.s3.event_message import ObjectFacts as EventFacts
from kumoi.services.s3.event_outbox import EventOutbox
from kumoi.services.s3.lifecycle_config import minimum_size, stored_rules
from kumoi.services.s3.lifecycle_rules import (
    Action,
    ObjectFacts,
    abort_due,
    due,
    due_action,
    enabled,
    matches,
    needs_tags,
    noncurrent_transition,
    prefix_of,
    scan_prefixes,
)
from kumoi.services.s3.restore import background_context
from kumoi.services.s3.versions_listing import remaining_versions
from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import (
    BucketRecord,
    ConditionFailed,
    ListedObject,
    ListedVersion,
    MetadataStore,
    ObjectMissing,
    ObjectRecord,
    S3EventRow,
    VersionMissing,
)
from kumoi.storage.meta.contract_s3_archive import LifecycleChange

#: Entries read from the store per page.
PAGE = 1000
#: Entries (objects, versions, uploads) one pass examines at most.
PASS_BUDGET = 20000
#: Buckets read per page.
BUCKET_PAGE = 100
COUNTERS = (
    "buckets",
    "examined",
    "expired",
    "delete_markers_added",
    "transitioned",
    "archived",
    "noncurrent_expired",
    "delete_markers_removed",
    "uploads_aborted",
)


@dataclass
class PassReport:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts, "complete": self.complete}


class _BudgetSpent(Exception):
    pass


def _facts(entry: ListedObject | ListedVersion, tags: dict[str, str] | None) -> ObjectFacts:
    """What the rules look at of a listed object or version (``tags`` None: not read)."""
    return ObjectFacts(entry.key, entry.size, entry.last_modified, entry.storage_class or "STANDARD", tags)


class LifecycleWorker:
    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        clock: Clock,
        events: EventOutbox,
        budget: int = PASS_BUDGET,
    ) -> None:
        self._meta = meta
        self._blobs = blobs
        self._clock = clock
        self._events = events
        self._budget = budget
        #: Where the last pass stopped: (bucket, scan prefix, key marker, phase).
        self._resume: tuple[str, str, str, str] | None = None
        self._left = 0
        #: One pass at a time (the periodic task and the admin endpoint may ask at once).
        self._running = asyncio.Lock()

    async def run_pass(self) -> dict[str, Any]:
        """Apply the rules to up to ``budget`` entries, from where the last pass stopped."""
        async with self._running:
            return await self._pass()

    async def _pass(self) -> dict[str, Any]:
        report = PassReport()
        self._left = self._budget
        resume, self._resume = self._resume, None
        start = "" if resume is None else resume[0]
        try:
            while True:
                buckets = await self._meta.s3_archive.lifecycle_buckets(start, BUCKET_PAGE)
                for bucket in buckets:
                    report.counts["buckets"] += 1
                    begin = resume if resume is not None and resume[0] == bucket.name else None
                    await self._bucket(bucket, report, begin)
                    resume = None
                if len(buckets) < BUCKET_PAGE:
                    break
                start = buckets[-1].name + "\0"
        except _BudgetSpent:
            report.complete = False
        return report.as_dict()

    def _spend(self, resume: tuple[str, str, str, str], entries: int = 1) -> None:
        """Take ``entries`` from the pass's budget; when it has too few left, the next pass
        starts at ``resume`` and this one ends. A pass always takes what it meets first, so a
        key with more versions than the budget does not stop every pass at that key."""
        if self._left < entries and self._left < self._budget:
            self._resume = resume
            raise _BudgetSpent()
        self._left -= entries

    async def _bucket(
        self, bucket: BucketRecord, report: PassReport, start: tuple[str, str, str, str] | None
    ) -> None:
        rules = enabled(stored_rules(bucket.config))
        if not rules:
            return
        phases = ["objects", "uploads"]
        if start is not None:
            phases = phases[phases.index(start[3]) :]
        for phase in phases:
            begin = start if start is not None and start[3] == phase else None
            if phase == "uploads":
                await self._uploads(bucket, rules, report, begin)
                continue
            prefixes = scan_prefixes(rules)
            if begin is not None:
                prefixes = [p for p in prefixes if p >= begin[1]]
            for prefix in prefixes:
                marker = begin[2] if begin is not None and begin[1] == prefix else ""
                if versioning.status(bucket) is None:
                    await self._objects(bucket, rules, prefix, marker, report)
                else:
                    await self._versions(bucket, rules, prefix, marker, report)

    # -- unversioned buckets -----------------------------------------------------------------

    async def _objects(
        self,
        bucket: BucketRecord,
        rules: Sequence[Mapping[str, Any]],
        prefix: str,
        marker: str,
        report: PassReport,
    ) -> None:
        after = marker
        tagged = any(needs_tags(rule) for rule in rules)
        while True:
            page = await self._meta.s3.list_objects(bucket.name, prefix, after, PAGE, with_owner=False)
            batch: list[LifecycleChange] = []
            try:
                for listed in page:
                    self._spend((bucket.name, prefix, after, "objects"))
                    after = listed.key
                    report.counts["examined"] += 1
                    record: ObjectRecord | None = None
                    tags = None
                    if tagged and any(needs_tags(r) and listed.key.startswith(prefix_of(r)) for r in rules):
                        record = await self._still_current(bucket.name, listed.key, listed.etag)
                        if record is None:
                            continue
                        tags = record.attrs.get("Tags") or {}
                    facts = _facts(listed, tags)
                    action = due_action(rules, facts, self._clock.now(), minimum_size(bucket.config))
                    if action is None and facts.storage_class in archive.ARCHIVE_CLASSES:
                        await self._repair_archive(bucket.name, listed.key, listed.etag, record, report)
                    elif action is not None:
                        await self._apply(bucket, facts, listed.etag, action, record, batch, report)
            finally:
                await self._flush(bucket, batch, report)
            if len(page) < PAGE:
                return

    async def _still_current(
        self, bucket: str, key: str, etag: str, record: ObjectRecord | None = None
    ) -> ObjectRecord | None:
        """The current object under ``key`` (``record`` if it was read already), or None when it
        is no longer the one evaluated (gone, or replaced: another ETag)."""
        current = record or await self._meta.s3.get_object(bucket, key)
        return current if current is not None and current.etag == etag else None

    async def _repair_archive(
        self, bucket: str, key: str, etag: str, record: ObjectRecord | None, report: PassReport
    ) -> None:
        """Archive an object of an archive class whose data was never moved (a crash right after
        its write)."""
        record = await self._still_current(bucket, key, etag, record)
        if record is None or archive.ARCHIVE in record.attrs:
            return
        if await archive.archive_object(self._meta, self._blobs, record):
            report.counts["archived"] += 1

    async def _apply(
        self,
        bucket: BucketRecord,
        facts: ObjectFacts,
        etag: str,
        action: Action,
        record: ObjectRecord | None,
        batch: list[LifecycleChange],
        report: PassReport,
    ) -> None:
        """Apply ``action`` to the current object ``facts`` describes: archiving and delete markers
        at once, deletions and storage class changes into ``batch`` (one transaction per page)."""
        key, created = facts.key, facts.created
        if action.kind == "expire" and versioning.status(bucket) is not None:
            await self._add_delete_marker(bucket, key, etag, created, report)
            return
        if action.kind == "expire":
            event = self._prepare(bucket, "s3:LifecycleExpiration:Delete", None, key)
            batch.append(LifecycleChange(key, etag, created, None, event))
            return
        target = action.storage_class
        if target not in archive.ARCHIVE_CLASSES or facts.storage_class in archive.ARCHIVE_CLASSES:
            # A class change only (an archived object's data is already in the archive tier).
            event = self._prepare(bucket, "s3:LifecycleTransition", None, key)
            batch.append(LifecycleChange(key, etag, created, target, event))
            return
        current = await self._still_current(bucket.name, key, etag, record)
        if current is None:
            return
        events = self._prepare(bucket, "s3:LifecycleTransition", current)
        if await archive.archive_object(self._meta, self._blobs, current, {"StorageClass": target}, events):
            self._events.submit(events)
            report.counts["archived"] += 1
            report.counts["transitioned"] += 1

    async def _flush(self, bucket: BucketRecord, batch: list[LifecycleChange], report: PassReport) -> None:
        if not batch:
            return
        applied = await self._meta.s3_archive.apply_changes(bucket.name, batch)
        for change, done in zip(batch, applied, strict=True):
            if done:
                self._events.submit(change.events)
                report.counts["expired" if change.storage_class is None else "transitioned"] += 1
        batch.clear()

    async def _add_delete_marker(
        self, bucket: BucketRecord, key: str, etag: str, last_modified: float, report: PassReport
    ) -> None:
        """Expire a versioned bucket's current version as a DELETE does: a delete marker on top."""
        current = await self._meta.s3.get_object(bucket.name, key)
        if current is None or current.etag != etag or current.last_modified != last_modified:
            return
        marker = ObjectRecord(
            bucket.name, key, 0, "", self._clock.now(), attrs={"Owner": bucket.account_id}, delete_marker=True
        )
        versioning.assign(bucket, marker)
        events = self._prepare(bucket, "s3:LifecycleExpiration:DeleteMarkerCreated", None, key)
        await self._meta.s3.add_delete_marker(marker, events=events)
        self._events.submit(events)
        report.counts["delete_markers_added"] += 1

    # -- versioned buckets -------------------------------------------------------------------

    async def _versions(
        self,
        bucket: BucketRecord,
        rules: Sequence[Mapping[str, Any]],
        prefix: str,
        marker: str,
        report: PassReport,
    ) -> None:
        """Walk the versions key by key: a key's versions are gathered (across pages if need be)
        and handled once the listing has moved past them."""
        key_marker, version_marker = marker, ""
        done = marker
        group: list[ListedVersion] = []
        while True:
            resumed = False
            try:
                page = await self._meta.s3.list_versions(
                    bucket.name, prefix, key_marker, version_marker, PAGE
                )
            except VersionMissing:
                # The version the page ended on went away meanwhile: its key's versions after it,
                # then the keys after it.
                page = await remaining_versions(
                    self._meta.s3, bucket.name, prefix, key_marker, version_marker, PAGE
                )
                resumed = True
            # Ids that carry no time resume with all the key's versions: take each once.
            seen = {entry.version_id for entry in group} if resumed else set()
            for entry in (entry for entry in page if entry.version_id not in seen):
                if group and entry.key != group[0].key:
                    await self._version_group(bucket, rules, group, report, prefix, done)
                    done, group = group[0].key, []
                group.append(entry)
            if len(page) == PAGE or (resumed and page):
                key_marker, version_marker = page[-1].key, versioning.wire_id(page[-1].version_id)
            elif resumed:
                version_marker = ""
            else:
                break
        if group:
            await self._version_group(bucket, rules, group, report, prefix, done)

    async def _version_group(
        self,
        bucket: BucketRecord,
        rules: Sequence[Mapping[str, Any]],
        versions: list[ListedVersion],
        report: PassReport,
        prefix: str,
        done: str,
    ) -> None:
        """Apply the rules to one key's versions (newest first); ``done`` is the key before it,
        where the next pass goes on if the budget runs out here."""
        self._spend((bucket.name, prefix, done, "objects"), len(versions))
        report.counts["examined"] += len(versions)
        now = self._clock.now()
        latest = versions[0]
        if latest.is_latest and not latest.delete_marker:
            tags: dict[str, str] | None = None
            if any(needs_tags(rule) for rule in rules):
                record = await self._meta.s3.get_object(bucket.name, latest.key)
                tags = (record.attrs.get("Tags") or {}) if record is not None else {}
            facts = _facts(latest, tags)
            action = due_action(rules, facts, now, minimum_size(bucket.config))
            if action is not None:
                batch: list[LifecycleChange] = []
                await self._apply(bucket, facts, latest.etag, action, None, batch, report)
                await self._flush(bucket, batch, report)
        kept: dict[str, int] = {}
        newer: dict[str, int] = {}
        for entry in versions:
            if entry.superseded is None or entry.delete_marker:
                continue
            if self._noncurrent_due(rules, entry, now, kept):
                if await self._locked(bucket, entry, now):
                    continue
                events = self._prepare(bucket, "s3:LifecycleExpiration:Delete", None, entry.key)
                if await self._meta.s3.delete_version(
                    bucket.name, entry.key, entry.version_id, events=events
                ):
                    self._events.submit(events)
                    report.counts["noncurrent_expired"] += 1
                continue
            current_class = entry.storage_class or "STANDARD"
            target = noncurrent_transition(
                rules, entry.key, entry.size, entry.superseded, current_class, now, newer
            )
            if target is not None:
                await self._transition_version(bucket, entry, current_class, target, report)
        lone_marker = latest.delete_marker and latest.is_latest and len(versions) == 1
        if lone_marker and self._marker_expires(rules, latest, now):
            removed = await self._meta.s3.delete_version(bucket.name, latest.key, latest.version_id)
            report.counts["delete_markers_removed"] += removed is not None

    async def _locked(self, bucket: BucketRecord, entry: ListedVersion, now: float) -> bool:
        """Is the version under Object Lock retention or legal hold (lifecycle never deletes it)?"""
        if not object_lock.enabled(bucket):
            return False
        record = await self._meta.s3.get_version(bucket.name, entry.key, entry.version_id)
        return record is not None and object_lock.is_locked(record.attrs, now)

    async def _transition_version(
        self, bucket: BucketRecord, entry: ListedVersion, current: str, target: str, report: PassReport
    ) -> None:
        """A noncurrent version's storage class change; into an archive class, its data moves."""
        events = self._prepare(bucket, "s3:LifecycleTransition", None, entry.key)
        if target in archive.ARCHIVE_CLASSES and current not in archive.ARCHIVE_CLASSES:
            record = await self._meta.s3.get_version(bucket.name, entry.key, entry.version_id)
            if record is None or record.etag != entry.etag or record.delete_marker:
                return
            if not await archive.archive_object(
                self._meta, self._blobs, record, {"StorageClass": target}, events
            ):
                return
            report.counts["archived"] += 1
        else:
            expect = {"StorageClass": None if current == "STANDARD" else current}
            try:
                await self._meta.s3.patch_version_attrs(
                    bucket.name,
                    entry.key,
                    entry.version_id,
                    {"StorageClass": target},
                    expect=expect,
                    events=events,
                )
            except (ObjectMissing, ConditionFailed):
                return
        self._events.submit(events)
        report.counts["transitioned"] += 1

    @staticmethod
    def _noncurrent_due(
        rules: Sequence[Mapping[str, Any]], entry: ListedVersion, now: float, kept: dict[str, int]
    ) -> bool:
        """Is this noncurrent version due to expire? ``kept`` counts, per rule, the newer
        noncurrent versions already seen (NewerNoncurrentVersions keeps that many)."""
        expire = False
        for rule in rules:
            action = rule.get("NoncurrentVersionExpiration")
            if not action or not matches(rule, entry.key, entry.size, None if needs_tags(rule) else {}):
                continue
            rule_id = str(rule.get("ID", ""))
            newer = kept.get(rule_id, 0)
            kept[rule_id] = newer + 1
            if newer < int(action.get("NewerNoncurrentVersions", 0)):
                continue
            assert entry.superseded is not None
            if due(entry.superseded, int(action["NoncurrentDays"])) <= now:
                expire = True
        return expire

    @staticmethod
    def _marker_expires(rules: Sequence[Mapping[str, Any]], marker: ListedVersion, now: float) -> bool:
        """Is this delete marker, the only version of its key, to be removed? At once under
        ``ExpiredObjectDeleteMarker``; under a ``Days`` expiration once the marker is that old
        (S3 cleans up such markers "when they are old enough to satisfy the age criteria")."""
        for rule in rules:
            action = rule.get("Expiration") or {}
            if not matches(rule, marker.key, 0, {}):
                continue
            if action.get("ExpiredObjectDeleteMarker"):
                return True
            if "Days" in action and due(marker.last_modified, int(action["Days"])) <= now:
                return True
        return False

    # -- multipart uploads -------------------------------------------------------------------

    async def _uploads(
        self,
        bucket: BucketRecord,
        rules: Sequence[Mapping[str, Any]],
        report: PassReport,
        start: tuple[str, str, str, str] | None,
    ) -> None:
        if not any(rule.get("AbortIncompleteMultipartUpload") for rule in rules):
            return
        key_marker, upload_marker = (start[1], start[2]) if start is not None else ("", "")
        while True:
            page = await self._meta.s3.list_uploads(bucket.name, "", key_marker, upload_marker, PAGE)
            for upload in page:
                self._spend((bucket.name, key_marker, upload_marker, "uploads"))
                key_marker, upload_marker = upload.key, upload.upload_id
                report.counts["examined"] += 1
                if abort_due(
                    rules, upload.key, upload.initiated, self._clock.now()
                ) and await self._meta.s3.abort_upload(upload.upload_id):
                    report.counts["uploads_aborted"] += 1
            if len(page) < PAGE:
                return

    def _prepare(
        self, bucket: BucketRecord, event: str, record: ObjectRecord | None, key: str = ""
    ) -> list[S3EventRow]:
        facts = EventFacts(record.key, record.size, record.etag) if record is not None else EventFacts(key)
        return self._events.prepare(background_context(bucket, event), bucket, event, facts)
