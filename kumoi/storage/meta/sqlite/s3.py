"""S3 buckets and objects in SQLite.

``objects`` has the primary key ``(bucket, key)``: a listing is a range scan of that index from
the lower bound, stopping after ``limit`` rows, whatever the bucket's size. Replacing or deleting
an object queues its blob for garbage collection in the same write job, and a put clears the new
blob's write intent there too, so there is never a moment where a blob is referenced and still
marked as an intent, or unreferenced and not queued.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from kumoi.storage.meta.contract import (
    BucketExists,
    BucketMissing,
    BucketNotEmpty,
    BucketRecord,
    ObjectRecord,
)
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database
from kumoi.storage.meta.sqlite.keyrange import key_range, range_sql

_BUCKET_COLUMNS = "name, account_id, region, created, config"
_OBJECT_COLUMNS = "bucket, key, size, etag, last_modified, blob_id, attrs, inline"
# Listings never need object bytes; inline data is the last column so a row's other columns are
# read without walking its overflow pages.
_LISTED_COLUMNS = "bucket, key, size, etag, last_modified, blob_id, attrs, NULL"

_GET_BUCKET = f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE name = ?"
_INSERT_BUCKET = f"INSERT INTO buckets ({_BUCKET_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
_UPDATE_BUCKET = "UPDATE buckets SET config = ? WHERE name = ?"
_BUCKET_EXISTS = "SELECT 1 FROM buckets WHERE name = ?"
_ANY_OBJECT = "SELECT 1 FROM objects WHERE bucket = ? LIMIT 1"
_DELETE_BUCKET = "DELETE FROM buckets WHERE name = ?"
_LIST_BUCKETS = range_sql(
    f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE account_id = :owner AND {{range}} "
    "ORDER BY name LIMIT :limit",
    "name",
)

_GET_OBJECT = f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?"
_OLD_BLOB = "SELECT blob_id FROM objects WHERE bucket = ? AND key = ?"
_UPSERT_OBJECT = (
    f"INSERT INTO objects ({_OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
    "last_modified = excluded.last_modified, blob_id = excluded.blob_id, inline = excluded.inline, "
    "attrs = excluded.attrs"
)
_DELETE_OBJECT = f"DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING {_OBJECT_COLUMNS}"
_LIST_OBJECTS = range_sql(
    f"SELECT {_LISTED_COLUMNS} FROM objects WHERE bucket = :bucket AND {{range}} ORDER BY key LIMIT :limit",
    "key",
)
_QUEUE_GARBAGE = "INSERT OR IGNORE INTO blob_garbage (blob_id, queued) VALUES (?, ?)"
_CLEAR_INTENT = "DELETE FROM blob_intents WHERE blob_id = ?"


def _bucket(row: tuple[Any, ...]) -> BucketRecord:
    return BucketRecord(row[0], row[1], row[2], row[3], load_doc(row[4]))


def _object(row: tuple[Any, ...]) -> ObjectRecord:
    return ObjectRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[7], load_doc(row[6]))


class SqliteS3Repository:
    """:class:`~kumoi.storage.meta.contract.S3Repository` on a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_bucket(self, record: BucketRecord) -> None:
        row = (record.name, record.account_id, record.region, record.created, dump_doc(record.config))

        def job(conn: sqlite3.Connection) -> None:
            existing = conn.execute(_GET_BUCKET, (record.name,)).fetchone()
            if existing is not None:
                raise BucketExists(_bucket(existing))
            conn.execute(_INSERT_BUCKET, row)

        await self._db.write(job)

    async def get_bucket(self, name: str) -> BucketRecord | None:
        def job(conn: sqlite3.Connection) -> BucketRecord | None:
            row = conn.execute(_GET_BUCKET, (name,)).fetchone()
            return None if row is None else _bucket(row)

        return await self._db.read(job)

    async def list_buckets(
        self, account_id: str, prefix: str = "", after: str = "", limit: int = 10000
    ) -> list[BucketRecord]:
        bounds = key_range(prefix, after)
        sql = _LIST_BUCKETS[(bounds.exclusive, bounds.upper is not None)]
        params = {"owner": account_id, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}

        def job(conn: sqlite3.Connection) -> list[BucketRecord]:
            return [_bucket(row) for row in conn.execute(sql, params)]

        return await self._db.read(job)

    async def update_bucket_config(self, name: str, config: dict[str, Any]) -> None:
        params = (dump_doc(config), name)
        await self._db.write(lambda conn: conn.execute(_UPDATE_BUCKET, params))

    async def delete_bucket(self, name: str) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            if conn.execute(_BUCKET_EXISTS, (name,)).fetchone() is None:
                return False
            if conn.execute(_ANY_OBJECT, (name,)).fetchone() is not None:
                raise BucketNotEmpty(name)
            conn.execute(_DELETE_BUCKET, (name,))
            return True

        return await self._db.write(job)

    async def put_object(self, record: ObjectRecord) -> None:
        row = (
            record.bucket,
            record.key,
            record.size,
            record.etag,
            record.last_modified,
            record.blob_id,
            dump_doc(record.attrs),
            record.inline,
        )
        bucket, key, blob_id, now = record.bucket, record.key, record.blob_id, record.last_modified

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(_BUCKET_EXISTS, (bucket,)).fetchone() is None:
                raise BucketMissing(bucket)
            old = conn.execute(_OLD_BLOB, (bucket, key)).fetchone()
            conn.execute(_UPSERT_OBJECT, row)
            if old is not None and old[0] is not None and old[0] != blob_id:
                conn.execute(_QUEUE_GARBAGE, (old[0], now))
            if blob_id is not None:
                conn.execute(_CLEAR_INTENT, (blob_id,))

        await self._db.write(job)

    async def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        def job(conn: sqlite3.Connection) -> ObjectRecord | None:
            row = conn.execute(_GET_OBJECT, (bucket, key)).fetchone()
            return None if row is None else _object(row)

        return await self._db.read(job)

    async def delete_object(self, bucket: str, key: str) -> ObjectRecord | None:
        def job(conn: sqlite3.Connection) -> ObjectRecord | None:
            rows = conn.execute(_DELETE_OBJECT, (bucket, key)).fetchall()
            if not rows:
                return None
            record = _object(rows[0])
            if record.blob_id is not None:
                conn.execute(_QUEUE_GARBAGE, (record.blob_id, record.last_modified))
            return record

        return await self._db.write(job)

    async def list_objects(
        self, bucket: str, prefix: str = "", after: str = "", limit: int = 1000
    ) -> list[ObjectRecord]:
        bounds = key_range(prefix, after)
        sql = _LIST_OBJECTS[(bounds.exclusive, bounds.upper is not None)]
        params = {"bucket": bucket, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}

        def job(conn: sqlite3.Connection) -> list[ObjectRecord]:
            return [_object(row) for row in conn.execute(sql, params)]

        return await self._db.read(job)
