"""IAM and STS documents in SQLite: one row per entity (see ``contract_iam``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kumoi.storage.meta.contract_iam import IamDocument, IamKey
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database

_LOAD = (
    "SELECT account_id, kind, name, doc, expires FROM iam_documents "
    "WHERE expires IS NULL OR expires > ? ORDER BY account_id, kind, name"
)
_PUT = (
    "INSERT INTO iam_documents (account_id, kind, name, doc, expires) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, kind, name) DO UPDATE SET doc = excluded.doc, expires = excluded.expires"
)
_DELETE = "DELETE FROM iam_documents WHERE account_id = ? AND kind = ? AND name = ?"
_PURGE = "DELETE FROM iam_documents WHERE expires IS NOT NULL AND expires <= ?"


class SqliteIamRepository:
    """:class:`~kumoi.storage.meta.contract_iam.IamRepository` on the shared database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, now: float) -> list[IamDocument]:
        def run(conn: sqlite3.Connection) -> list[IamDocument]:
            return [
                IamDocument(account, kind, name, load_doc(doc), expires)
                for account, kind, name, doc, expires in conn.execute(_LOAD, (now,))
            ]

        return await self._db.read(run)

    async def apply(self, puts: Sequence[IamDocument], deletes: Sequence[IamKey] = ()) -> None:
        rows = [(d.account_id, d.kind, d.name, dump_doc(d.doc), d.expires) for d in puts]
        keys = list(deletes)

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(_DELETE, keys)
            conn.executemany(_PUT, rows)

        await self._db.write(run)

    async def purge_expired(self, now: float) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(_PURGE, (now,)).rowcount

        return await self._db.write(run)
