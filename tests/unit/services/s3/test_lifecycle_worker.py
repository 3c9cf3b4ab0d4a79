"""The lifecycle worker's budget against the SQLite store: a pass examines at most ``budget``
entries, the next one goes on where it stopped, and together they apply the rules to everything,
including a key with more versions than one pass may examine."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kumoi.core.clock import Clock
from kumoi.services.s3 import lifecycle_worker, versioning
from kumoi.services.s3.event_outbox import EventOutbox
from kumoi.services.s3.lifecycle_config import CONFIG_KEY, validate
from kumoi.services.s3.lifecycle_worker import LifecycleWorker
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.contract import BucketRecord, ListedVersion, MetadataStore, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore

DAY = 86400.0


def _run(
    tmp_path: Path,
    scenario: Callable[[MetadataStore, Clock, Callable[[int], LifecycleWorker]], Awaitable[None]],
) -> None:
    async def main() -> None:
        clock = Clock(adjustable=True)
        meta = SqliteMetadataStore(tmp_path / "meta.db", clock=clock)
        await meta.start()
        blobs = LocalBlobStore(tmp_path / "blobs")
        try:

            def worker(budget: int) -> LifecycleWorker:
                return LifecycleWorker(meta, blobs, clock, EventOutbox(meta.s3, clock), budget)

            await scenario(meta, clock, worker)
        finally:
            await meta.close()

    asyncio.run(main())


def _bucket(name: str, *rules: dict[str, Any], versioned: bool = False) -> BucketRecord:
    config: dict[str, Any] = {CONFIG_KEY: {"Rules": validate(list(rules))}}
    if versioned:
        config[versioning.ATTR] = {"Status": versioning.ENABLED}
    return BucketRecord(name, "111122223333", "us-east-1", 1.0, config)


def test_passes_resume_where_the_budget_ran_out(tmp_path: Path) -> None:
    async def scenario(meta: MetadataStore, clock: Clock, worker: Callable[[int], LifecycleWorker]) -> None:
        bucket = _bucket("plain", {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}})
        await meta.s3.create_bucket(bucket)
        for n in range(25):
            await meta.s3.put_object(ObjectRecord("plain", f"k{n:02}", 1, '"e"', clock.now(), inline=b"x"))
        clock.advance(3 * DAY)
        lifecycle = worker(10)
        reports = [await lifecycle.run_pass() for _ in range(3)]
        assert [(r["examined"], r["expired"], r["complete"]) for r in reports] == [
            (10, 10, False),
            (10, 10, False),
            (5, 5, True),
        ]
        assert await meta.s3.list_objects("plain") == []

    _run(tmp_path, scenario)


def test_versions_are_taken_a_key_at_a_time_even_past_the_budget(tmp_path: Path) -> None:
    async def scenario(meta: MetadataStore, clock: Clock, worker: Callable[[int], LifecycleWorker]) -> None:
        rule = {
            "ID": "old",
            "Status": "Enabled",
            "Filter": {},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
        bucket = _bucket("versions", rule, versioned=True)
        await meta.s3.create_bucket(bucket)
        # "big" has more versions than a pass may examine; the others three each.
        for key, count in (("a", 3), ("big", 6), ("c", 3)):
            for _ in range(count):
                record = ObjectRecord("versions", key, 1, '"e"', clock.now(), inline=b"x")
                await meta.s3.put_object(record, versioned=versioning.assign(bucket, record))
        clock.advance(3 * DAY)
        lifecycle = worker(4)
        reports = [await lifecycle.run_pass() for _ in range(3)]
        # Pass 1 takes "a" and stops before "big"; pass 2 takes "big" whole; pass 3 takes "c".
        assert [(r["examined"], r["noncurrent_expired"], r["complete"]) for r in reports] == [
            (3, 2, False),
            (6, 5, False),
            (3, 2, True),
        ]
        listed = await meta.s3.list_versions("versions")
        assert [(v.key, v.is_latest) for v in listed] == [("a", True), ("big", True), ("c", True)]

    _run(tmp_path, scenario)


def _expire_noncurrent() -> dict[str, Any]:
    return {
        "ID": "old",
        "Status": "Enabled",
        "Filter": {},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }


async def _versions_of(
    meta: MetadataStore, clock: Clock, bucket: BucketRecord, key: str, count: int, *, timed: bool
) -> list[str | None]:
    """Write ``count`` versions of ``key`` a second apart; their ids, oldest first. Ids that are
    not ``timed`` are random, like the ids issued before ids carried their write's time."""
    ids: list[str | None] = []
    for _ in range(count):
        clock.advance(1)
        record = ObjectRecord(bucket.name, key, 1, '"e"', clock.now(), inline=b"x")
        versioned = versioning.assign(bucket, record)
        if not timed:
            record.version_id = secrets.token_urlsafe(24)
        await meta.s3.put_object(record, versioned=versioned)
        ids.append(record.version_id)
    return ids


def _delete_where_the_first_page_ends(
    meta: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> list[str | None]:
    """Another client deletes the version the walk's first page ended on, before the next page."""
    listed = meta.s3.list_versions
    deleted: list[str | None] = []

    async def list_versions(bucket: str, *args: Any) -> list[ListedVersion]:
        page = await listed(bucket, *args)
        if not deleted:
            deleted.append(page[-1].version_id)
            await meta.s3.delete_version(bucket, page[-1].key, page[-1].version_id)
        return page

    monkeypatch.setattr(meta.s3, "list_versions", list_versions)
    return deleted


@pytest.mark.parametrize("timed", [True, False], ids=["ids-with-time", "random-ids"])
def test_a_version_deleted_where_a_page_ended_does_not_hide_the_versions_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timed: bool
) -> None:
    async def scenario(meta: MetadataStore, clock: Clock, worker: Callable[[int], LifecycleWorker]) -> None:
        bucket = _bucket("versions", _expire_noncurrent(), versioned=True)
        await meta.s3.create_bucket(bucket)
        ids = await _versions_of(meta, clock, bucket, "k", 7, timed=timed)
        await _versions_of(meta, clock, bucket, "next", 2, timed=timed)
        clock.advance(3 * DAY)
        monkeypatch.setattr(lifecycle_worker, "PAGE", 3)
        deleted = _delete_where_the_first_page_ends(meta, monkeypatch)
        report = await worker(1000).run_pass()
        assert deleted == [ids[4]]  # pages: k's 7th, 6th, 5th; then the rest
        # Each version examined once; every noncurrent one that still existed expired.
        assert (report["examined"], report["noncurrent_expired"]) == (9, 6)
        listed = await meta.s3.list_versions("versions")
        assert [(v.key, v.version_id) for v in listed] == [("k", ids[6]), ("next", listed[1].version_id)]

    _run(tmp_path, scenario)
