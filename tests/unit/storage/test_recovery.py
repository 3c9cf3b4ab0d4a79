"""Start-up recovery and garbage collection across the metadata store and the blob store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kumoi.core.clock import Clock
from kumoi.core.streams import BytesBody
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.faults import FaultPlan, InjectedFault
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.recovery import collect_garbage, recover

Body = Callable[[SqliteMetadataStore, LocalBlobStore], Awaitable[None]]


def run(root: Path, body: Body, faults: FaultPlan | None = None) -> None:
    async def main() -> None:
        meta = SqliteMetadataStore(root / "meta.db", clock=Clock(), faults=faults or FaultPlan())
        blobs = LocalBlobStore(root / "data")
        await meta.start()
        await blobs.start()
        try:
            await body(meta, blobs)
        finally:
            await blobs.close()
            await meta.close()

    asyncio.run(main())


async def put(meta: SqliteMetadataStore, blobs: LocalBlobStore, key: str, data: bytes) -> str:
    writer = blobs.new_writer()
    await meta.record_blob_intent(writer.blob_id)
    await writer.write(data)
    info = await writer.commit()
    await meta.s3.put_object(ObjectRecord("b", key, info.size, info.md5.hex(), 1.0, blob_id=info.blob_id))
    return info.blob_id


def test_recover_removes_blobs_of_interrupted_writes(tmp_path: Path) -> None:
    ids: dict[str, str] = {}

    async def before_crash(meta: SqliteMetadataStore, blobs: LocalBlobStore) -> None:
        await meta.s3.create_bucket(BucketRecord("b", "111122223333", "us-east-1", 1.0))
        ids["kept"] = await put(meta, blobs, "kept", b"kept")
        # Crash after the blob committed but before its record did.
        orphan = blobs.new_writer()
        await meta.record_blob_intent(orphan.blob_id)
        await orphan.write(b"orphan")
        ids["orphan"] = (await orphan.commit()).blob_id
        # Crash before any byte reached the disk.
        ids["never"] = blobs.new_writer().blob_id
        await meta.record_blob_intent(ids["never"])

    async def after_restart(meta: SqliteMetadataStore, blobs: LocalBlobStore) -> None:
        assert sorted(await meta.pending_blob_intents()) == sorted([ids["orphan"], ids["never"]])
        assert await recover(meta, blobs) == 2
        assert await meta.pending_blob_intents() == []
        assert not blobs.path_of(ids["orphan"]).exists()
        assert blobs.path_of(ids["kept"]).read_bytes() == b"kept"
        assert await recover(meta, blobs) == 0

    run(tmp_path, before_crash)
    run(tmp_path, after_restart)


def test_failed_metadata_commit_leaves_no_visible_object(tmp_path: Path) -> None:
    """The put's metadata commit fails: the object is invisible and recovery removes its blob."""
    # Commits: 1 bucket, 2-3 first put (intent, record), 4 second intent, 5 second record.
    faults = FaultPlan({"commit": 5})

    async def body(meta: SqliteMetadataStore, blobs: LocalBlobStore) -> None:
        await meta.s3.create_bucket(BucketRecord("b", "111122223333", "us-east-1", 1.0))
        await put(meta, blobs, "first", b"one")
        with pytest.raises(InjectedFault):
            await put(meta, blobs, "second", b"two")
        assert faults.triggered == [("commit", 5)]
        assert await meta.s3.get_object("b", "second") is None
        (pending,) = await meta.pending_blob_intents()
        assert blobs.path_of(pending).read_bytes() == b"two"
        assert await recover(meta, blobs) == 1
        assert not blobs.path_of(pending).exists()
        first = await meta.s3.get_object("b", "first")
        assert first is not None and first.blob_id is not None
        assert blobs.path_of(first.blob_id).read_bytes() == b"one"

    run(tmp_path, body, faults)


def test_collect_garbage_deletes_replaced_blobs(tmp_path: Path) -> None:
    async def body(meta: SqliteMetadataStore, blobs: LocalBlobStore) -> None:
        await meta.s3.create_bucket(BucketRecord("b", "111122223333", "us-east-1", 1.0))
        old = [await put(meta, blobs, "k", bytes([i])) for i in range(5)]
        current = old.pop()
        assert await collect_garbage(meta, blobs, limit=3) == 3
        assert await collect_garbage(meta, blobs) == 1
        assert await collect_garbage(meta, blobs) == 0
        assert not any(blobs.path_of(blob_id).exists() for blob_id in old)
        assert blobs.path_of(current).read_bytes() == bytes([4])
        deleted = await meta.s3.delete_object("b", "k")
        assert deleted is not None
        assert await collect_garbage(meta, blobs) == 1
        assert not blobs.path_of(current).exists()
        info = await blobs.write_stream(BytesBody(b"unrelated"))
        assert blobs.path_of(info.blob_id).exists()

    run(tmp_path, body)
