"""SNS topics, subscriptions, the delivery outbox and FIFO deduplication ids in SQLite (see
``contract_sns``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kumoi.storage.meta.contract_sns import DedupEntry, OutboxRow, SnsDocument
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database

_LOAD = "SELECT kind, arn, doc FROM sns_resources ORDER BY kind, arn"
_PUT = (
    "INSERT INTO sns_resources (kind, arn, doc) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, arn) DO UPDATE SET doc = excluded.doc"
)
_DELETE = "DELETE FROM sns_resources WHERE kind = ? AND arn = ?"
_ENQUEUE = "INSERT INTO sns_outbox (subscription_arn, payload) VALUES (?, ?)"
_SET_SEQUENCE = (
    "INSERT INTO sns_sequences (topic_arn, sequence) VALUES (?, ?) "
    "ON CONFLICT (topic_arn) DO UPDATE SET sequence = excluded.sequence"
)
_GET_SEQUENCE = "SELECT sequence FROM sns_sequences WHERE topic_arn = ?"
_PENDING = (
    "SELECT row_id, subscription_arn, payload, attempts, next_at FROM sns_outbox WHERE row_id > ? "
    "ORDER BY row_id LIMIT ?"
)
_FINISH = "DELETE FROM sns_outbox WHERE row_id = ?"
_RESCHEDULE = "UPDATE sns_outbox SET attempts = ?, next_at = ? WHERE row_id = ?"
_ADD_DEDUP = (
    "INSERT OR REPLACE INTO sns_dedup (topic_arn, dedup_id, expires, message_id, sequence_number) "
    "VALUES (?, ?, ?, ?, ?)"
)
_EXPIRE_DEDUP = "DELETE FROM sns_dedup WHERE topic_arn = ? AND expires <= ?"
_RECENT_DEDUP = (
    "SELECT dedup_id, expires, message_id, sequence_number FROM sns_dedup "
    "WHERE topic_arn = ? AND expires > ? ORDER BY expires"
)
_DROP_DEDUP = "DELETE FROM sns_dedup WHERE topic_arn = ?"
_TOPIC = "topic"


class SqliteSnsRepository:
    """:class:`~kumoi.storage.meta.contract_sns.SnsRepository` on the shared database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> list[SnsDocument]:
        def run(conn: sqlite3.Connection) -> list[SnsDocument]:
            return [SnsDocument(kind, arn, load_doc(doc)) for kind, arn, doc in conn.execute(_LOAD)]

        return await self._db.read(run)

    async def apply(self, puts: Sequence[SnsDocument], deletes: Sequence[tuple[str, str]] = ()) -> None:
        rows = [(d.kind, d.arn, dump_doc(d.doc)) for d in puts]
        keys = list(deletes)
        topics = [(arn,) for kind, arn in keys if kind == _TOPIC]

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(_DELETE, keys)
            conn.executemany(_DROP_DEDUP, topics)
            conn.executemany(_PUT, rows)

        await self._db.write(run)

    async def publish(
        self,
        topic_arn: str,
        sequence: int | None,
        rows: Sequence[OutboxRow],
        dedup: Sequence[DedupEntry] = (),
        expired_before: float | None = None,
    ) -> list[int]:
        values = [(row.subscription_arn, dump_doc(row.payload)) for row in rows]
        entries = [(topic_arn, e.dedup_id, e.expires, e.message_id, e.sequence_number) for e in dedup]

        def run(conn: sqlite3.Connection) -> list[int]:
            if sequence is not None:
                conn.execute(_SET_SEQUENCE, (topic_arn, sequence))
            if expired_before is not None:
                conn.execute(_EXPIRE_DEDUP, (topic_arn, expired_before))
            conn.executemany(_ADD_DEDUP, entries)
            ids: list[int] = []
            for value in values:
                cursor = conn.execute(_ENQUEUE, value)
                ids.append(int(cursor.lastrowid or 0))
            return ids

        ids = await self._db.write(run)
        for row, row_id in zip(rows, ids, strict=True):
            row.row_id = row_id
        return ids

    async def last_sequence(self, topic_arn: str) -> int:
        def run(conn: sqlite3.Connection) -> int:
            found = conn.execute(_GET_SEQUENCE, (topic_arn,)).fetchone()
            return 0 if found is None else int(found[0])

        return await self._db.read(run)

    async def recent_deduplication(self, topic_arn: str, now: float) -> list[DedupEntry]:
        def run(conn: sqlite3.Connection) -> list[DedupEntry]:
            return [DedupEntry(*row) for row in conn.execute(_RECENT_DEDUP, (topic_arn, now))]

        return await self._db.read(run)

    async def reschedule(self, row_id: int, attempts: int, next_at: float) -> None:
        await self._db.write(lambda conn: conn.execute(_RESCHEDULE, (attempts, next_at, row_id)))

    async def pending(self, after: int, limit: int) -> list[OutboxRow]:
        def run(conn: sqlite3.Connection) -> list[OutboxRow]:
            return [
                OutboxRow(arn, load_doc(payload), row_id, attempts, next_at)
                for row_id, arn, payload, attempts, next_at in conn.execute(_PENDING, (after, limit))
            ]

        return await self._db.read(run)

    async def finish(self, row_ids: Sequence[int]) -> None:
        keys = [(row_id,) for row_id in row_ids]

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(_FINISH, keys)

        await self._db.write(run)
