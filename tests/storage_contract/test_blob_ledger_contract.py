"""MetadataStore blob bookkeeping contract: write intents and the garbage queue."""

from __future__ import annotations

from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from tests.storage_contract.conftest import Env, Runner


def test_intents_record_list_clear(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta = env.meta
        assert await meta.pending_blob_intents() == []
        await meta.record_blob_intent("1" * 32)
        await meta.record_blob_intent("2" * 32)
        await meta.record_blob_intent("1" * 32)  # recording twice is harmless
        assert sorted(await meta.pending_blob_intents()) == ["1" * 32, "2" * 32]
        await meta.clear_blob_intents(["1" * 32, "9" * 32])
        assert await meta.pending_blob_intents() == ["2" * 32]
        await meta.clear_blob_intents([])
        assert await meta.pending_blob_intents() == ["2" * 32]

    contract(body)


def test_garbage_take_is_limited_and_forget_removes(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(BucketRecord("bkt", "111122223333", "us-east-1", 1.0))
        blob_ids = [f"{i:032x}" for i in range(5)]
        for i, blob_id in enumerate(blob_ids):
            await s3.put_object(ObjectRecord("bkt", f"k{i}", 1, '"e"', float(i), blob_id=blob_id))
            await s3.delete_object("bkt", f"k{i}")
        taken = await meta.take_garbage(limit=3)
        assert len(taken) == 3 and set(taken) <= set(blob_ids)
        assert await meta.take_garbage(limit=3) == taken  # taking does not remove
        await meta.forget_garbage(taken)
        rest = await meta.take_garbage()
        assert sorted(rest) == sorted(set(blob_ids) - set(taken))
        await meta.forget_garbage(rest)
        assert await meta.take_garbage() == []

    contract(body)
