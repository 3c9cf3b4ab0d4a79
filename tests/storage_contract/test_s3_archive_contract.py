"""MetadataStore contract for lifecycle, archive and restore metadata (``meta.s3_archive``)."""

from __future__ import annotations

import pytest

from kumoi.storage.meta.contract import BlobPart, BucketRecord, ConditionFailed, ObjectMissing, ObjectRecord
from kumoi.storage.meta.contract_s3_archive import LifecycleChange, RestoreRecord
from tests.storage_contract.conftest import Env, Runner

OLD, ARCHIVE, COPY = "a" * 32, "b" * 32, "c" * 32


async def _bucket_with_object(env: Env, **config: object) -> ObjectRecord:
    await env.meta.s3.create_bucket(BucketRecord("bkt", "111122223333", "us-east-1", 1.0, dict(config)))
    record = ObjectRecord("bkt", "k", 10, '"e"', 5.0, blob_id=OLD, attrs={"Tags": {"a": "1"}})
    await env.meta.s3.put_object(record)
    return record


def test_lifecycle_buckets_only_lists_configured_ones(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        for name, config in (
            ("a-bkt", {"Lifecycle": {"Rules": []}}),
            ("b-bkt", {}),
            ("c-bkt", {"Lifecycle": {}}),
        ):
            await s3.create_bucket(BucketRecord(name, "111122223333", "us-east-1", 1.0, config))
        names = [bucket.name for bucket in await env.meta.s3_archive.lifecycle_buckets("", 10)]
        assert names == ["a-bkt", "c-bkt"]
        assert [b.name for b in await env.meta.s3_archive.lifecycle_buckets("b", 10)] == ["c-bkt"]

    contract(body)


def test_archive_swaps_data_queues_garbage_and_clears_the_intent(contract: Runner) -> None:
    async def body(env: Env) -> None:
        await _bucket_with_object(env)
        repo = env.meta.s3_archive
        await env.meta.record_blob_intent(ARCHIVE)
        with pytest.raises(ConditionFailed):
            await repo.archive_object("bkt", "k", '"other"', [OLD], ARCHIVE, {"StorageClass": "GLACIER"})
        with pytest.raises(ConditionFailed):
            await repo.archive_object("bkt", "k", '"e"', [COPY], ARCHIVE, {"StorageClass": "GLACIER"})
        with pytest.raises(ObjectMissing):
            await repo.archive_object("bkt", "nope", '"e"', [OLD], ARCHIVE, {})
        await repo.archive_object(
            "bkt", "k", '"e"', [OLD], ARCHIVE, {"StorageClass": "GLACIER", "Archive": {"Parts": [[10, 10]]}}
        )
        record = await env.meta.s3.get_object("bkt", "k")
        assert record is not None and record.blob_id == ARCHIVE and record.inline is None
        assert record.attrs == {
            "Tags": {"a": "1"},
            "StorageClass": "GLACIER",
            "Archive": {"Parts": [[10, 10]]},
        }
        assert await env.meta.take_garbage() == [OLD]
        assert await env.meta.pending_blob_intents() == []

    contract(body)


def test_lifecycle_changes_apply_only_to_the_evaluated_object(contract: Runner) -> None:
    async def body(env: Env) -> None:
        await _bucket_with_object(env)
        await env.meta.s3.put_object(ObjectRecord("bkt", "gone", 1, '"g"', 7.0, inline=b"x"))
        repo = env.meta.s3_archive
        changes = [
            LifecycleChange("k", '"e"', 5.0, "STANDARD_IA"),
            LifecycleChange("k", '"x"', 5.0, "GLACIER"),
            LifecycleChange("gone", '"g"', 7.5),
            LifecycleChange("gone", '"g"', 7.0),
            LifecycleChange("missing", '"m"', 1.0),
        ]
        assert await repo.apply_changes("bkt", changes) == [True, False, False, True, False]
        record = await env.meta.s3.get_object("bkt", "k")
        assert record is not None and record.attrs == {"Tags": {"a": "1"}, "StorageClass": "STANDARD_IA"}
        assert await env.meta.s3.get_object("bkt", "gone") is None
        await repo.apply_changes("bkt", [LifecycleChange("k", '"e"', 5.0)])
        assert await env.meta.take_garbage() == [OLD]

    contract(body)


def test_restore_states(contract: Runner) -> None:
    async def body(env: Env) -> None:
        record = await _bucket_with_object(env)
        repo = env.meta.s3_archive
        await repo.archive_object("bkt", "k", record.etag, [OLD], ARCHIVE, {"StorageClass": "GLACIER"})
        job = RestoreRecord(ARCHIVE, "bkt", "k", ready_at=100.0)
        assert await repo.start_restore(job, {"Restore": {"Ongoing": True}}) is None
        existing = await repo.start_restore(job, {"Restore": {"Ongoing": True}})
        assert existing is not None and existing.expires_at is None
        with pytest.raises(ObjectMissing):
            await repo.start_restore(RestoreRecord(COPY, "bkt", "k", 1.0), {})
        assert not await repo.extend_restore(ARCHIVE, 900.0, {})  # still ongoing
        assert await repo.due_restores(99.0, 10) == []
        assert [r.archive_id for r in await repo.due_restores(100.0, 10)] == [ARCHIVE]
        await env.meta.record_blob_intent(COPY)
        assert await repo.finish_restore(
            ARCHIVE, [BlobPart(COPY, 10)], 500.0, {"Restore": {"Ongoing": False}}
        )
        assert await env.meta.pending_blob_intents() == []
        assert await repo.due_restores(1000.0, 10) == []
        assert await repo.extend_restore(ARCHIVE, 900.0, {"Restore": {"Ongoing": False, "Expiry": 900.0}})
        assert await repo.expired_restores(899.0, 10) == []
        done = await repo.expired_restores(900.0, 10)
        assert [(r.archive_id, r.copies) for r in done] == [(ARCHIVE, [BlobPart(COPY, 10)])]
        assert await repo.end_restore(ARCHIVE, ["Restore"])
        current = await env.meta.s3.get_object("bkt", "k")
        assert current is not None and "Restore" not in current.attrs
        assert sorted(await env.meta.take_garbage()) == sorted([OLD, COPY])
        assert await repo.get_restore(ARCHIVE) is None

    contract(body)


def test_a_restore_of_a_deleted_object_gives_its_copy_back(contract: Runner) -> None:
    async def body(env: Env) -> None:
        record = await _bucket_with_object(env)
        repo = env.meta.s3_archive
        await repo.archive_object("bkt", "k", record.etag, [OLD], ARCHIVE, {})
        await repo.start_restore(RestoreRecord(ARCHIVE, "bkt", "k", 1.0), {"Restore": {"Ongoing": True}})
        await env.meta.s3.delete_object("bkt", "k")
        assert not await repo.finish_restore(ARCHIVE, [BlobPart(COPY, 10)], 50.0, {})
        assert sorted(await env.meta.take_garbage()) == sorted([OLD, ARCHIVE, COPY])
        assert await repo.get_restore(ARCHIVE) is None

    contract(body)
