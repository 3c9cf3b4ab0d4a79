"""The SNS repository keeps delivery state across a reopen: HTTP retry progress of outbox rows and
FIFO deduplication ids (which expire, and go with their topic)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract_sns import DedupEntry, OutboxRow, SnsDocument
from kumoi.storage.meta.sqlite import SqliteMetadataStore

TOPIC = "arn:aws:sns:us-east-1:000000000000:t.fifo"
OTHER = "arn:aws:sns:us-east-1:000000000000:u.fifo"


async def _write(path: Path) -> int:
    store = SqliteMetadataStore(path, clock=Clock())
    await store.start()
    try:
        repo = store.sns
        await repo.apply([SnsDocument("topic", TOPIC, {}), SnsDocument("topic", OTHER, {})])
        (row_id,) = await repo.publish(
            TOPIC, 1, [OutboxRow(TOPIC + ":s", {"n": 1})], [DedupEntry("a", 100.0, "m-a", "1")]
        )
        await repo.publish(TOPIC, 2, [], [DedupEntry("b", 200.0, "m-b", "2")])
        await repo.publish(OTHER, 1, [], [DedupEntry("a", 300.0, "m-other", "1")])
        await repo.reschedule(row_id, 2, 1234.5)
        return row_id
    finally:
        await store.close()


async def _read(path: Path, row_id: int) -> None:
    store = SqliteMetadataStore(path, clock=Clock())
    await store.start()
    try:
        repo = store.sns
        (row,) = await repo.pending(0, 10)
        assert (row.row_id, row.attempts, row.next_at, row.payload) == (row_id, 2, 1234.5, {"n": 1})
        assert [e.dedup_id for e in await repo.recent_deduplication(TOPIC, 50.0)] == ["a", "b"]
        assert await repo.recent_deduplication(TOPIC, 150.0) == [DedupEntry("b", 200.0, "m-b", "2")]
        await repo.publish(TOPIC, 3, [], [DedupEntry("c", 400.0, "m-c", "3")], expired_before=150.0)
        assert [e.dedup_id for e in await repo.recent_deduplication(TOPIC, 0.0)] == ["b", "c"]
        await repo.apply([], [("topic", TOPIC)])
        assert await repo.recent_deduplication(TOPIC, 0.0) == []
        assert [e.message_id for e in await repo.recent_deduplication(OTHER, 0.0)] == ["m-other"]
    finally:
        await store.close()


def test_retry_progress_and_deduplication_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "meta.db"
    row_id = asyncio.run(_write(path))
    asyncio.run(_read(path, row_id))
