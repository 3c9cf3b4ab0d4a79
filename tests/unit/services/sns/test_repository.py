"""The SNS repository on SQLite: documents, FIFO sequence numbers and the outbox survive a reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract_sns import OutboxRow, SnsDocument
from kumoi.storage.meta.sqlite import SqliteMetadataStore

TOPIC = "arn:aws:sns:us-east-1:000000000000:t"


async def _write(path: Path) -> list[int]:
    store = SqliteMetadataStore(path, clock=Clock())
    await store.start()
    try:
        repo = store.sns
        await repo.apply(
            [SnsDocument("topic", TOPIC, {"name": "t"}), SnsDocument("subscription", TOPIC + ":s", {})]
        )
        await repo.apply([SnsDocument("topic", TOPIC, {"name": "renamed"})], [("subscription", TOPIC + ":s")])
        rows = [OutboxRow(TOPIC + ":s", {"n": i}) for i in range(5)]
        ids = await repo.publish(TOPIC, 7, rows)
        assert ids == sorted(ids) and [row.row_id for row in rows] == ids
        await repo.finish(ids[:2])
        return ids
    finally:
        await store.close()


async def _read(path: Path, ids: list[int]) -> None:
    store = SqliteMetadataStore(path, clock=Clock())
    await store.start()
    try:
        repo = store.sns
        assert [(d.kind, d.arn, d.doc) for d in await repo.load()] == [("topic", TOPIC, {"name": "renamed"})]
        assert await repo.last_sequence(TOPIC) == 7 and await repo.last_sequence("other") == 0
        pending = await repo.pending(0, 2)
        assert [row.row_id for row in pending] == ids[2:4] and pending[0].payload == {"n": 2}
        assert [row.row_id for row in await repo.pending(ids[3], 10)] == ids[4:]
        more = await repo.publish(TOPIC, None, [OutboxRow("x", {})])
        assert more[0] > ids[-1]  # ids are never reused
        assert await repo.last_sequence(TOPIC) == 7
    finally:
        await store.close()


def test_outbox_and_documents_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "meta.db"
    ids = asyncio.run(_write(path))
    asyncio.run(_read(path, ids))
