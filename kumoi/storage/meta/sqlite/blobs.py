"""Blob bookkeeping in SQLite: write intents and the garbage queue.

An intent is recorded (durably) before a blob's bytes are written and cleared by the write job
that makes a record reference the blob; whatever intents remain at start-up belong to writes a
crash cut short. Garbage holds blobs no record references any more; the collector deletes the
files, then forgets the ids.
"""

from __future__ import annotations

import sqlite3

from kumoi.core.clock import Clock
from kumoi.storage.meta.sqlite.engine import Database

_RECORD_INTENT = "INSERT OR IGNORE INTO blob_intents (blob_id, created) VALUES (?, ?)"
_PENDING_INTENTS = "SELECT blob_id FROM blob_intents ORDER BY rowid"
_CLEAR_INTENT = "DELETE FROM blob_intents WHERE blob_id = ?"
_TAKE_GARBAGE = "SELECT blob_id FROM blob_garbage ORDER BY rowid LIMIT ?"
_FORGET_GARBAGE = "DELETE FROM blob_garbage WHERE blob_id = ?"


class SqliteBlobLedger:
    """Intents and garbage for :class:`~kumoi.storage.meta.sqlite.store.SqliteMetadataStore`."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record_blob_intent(self, blob_id: str) -> None:
        params = (blob_id, self._clock.now())
        await self._db.write(lambda conn: conn.execute(_RECORD_INTENT, params))

    async def pending_blob_intents(self) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(_PENDING_INTENTS)]

        return await self._db.read(job)

    async def clear_blob_intents(self, blob_ids: list[str]) -> None:
        if blob_ids:
            params = [(blob_id,) for blob_id in blob_ids]
            await self._db.write(lambda conn: conn.executemany(_CLEAR_INTENT, params))

    async def take_garbage(self, limit: int = 1000) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(_TAKE_GARBAGE, (limit,))]

        return await self._db.read(job)

    async def forget_garbage(self, blob_ids: list[str]) -> None:
        if blob_ids:
            params = [(blob_id,) for blob_id in blob_ids]
            await self._db.write(lambda conn: conn.executemany(_FORGET_GARBAGE, params))
