"""S3 lifecycle, archive and restore metadata in SQLite (see :mod:`..contract_s3_archive`).

Attribute changes are patches applied by SQLite's ``json_set``/``json_remove`` inside the write
job, so a lifecycle transition or a restore never overwrites a concurrent change of another
attribute (tags, for instance). ``s3_restores.manifest`` uses the objects' manifest format, so a
snapshot copies a restored copy's blobs like a multipart object's parts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.storage.meta.contract import BlobPart, BucketRecord, ConditionFailed, ObjectMissing, S3EventRow
from kumoi.storage.meta.contract_s3_archive import LifecycleChange, RestoreRecord
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database
from kumoi.storage.meta.sqlite.s3 import load_manifest

_LIFECYCLE_BUCKETS = (
    "SELECT name, account_id, region, created, config FROM buckets "
    "WHERE name >= ? AND json_extract(config, '$.Lifecycle') IS NOT NULL ORDER BY name LIMIT ?"
)
_CURRENT = "SELECT etag, blob_id, manifest, last_modified FROM objects WHERE bucket = ? AND key = ?"
#: A version's data columns, from the current versions (``objects``) or the noncurrent ones.
_VERSION = {
    table: f"SELECT etag, blob_id, manifest, rowid, last_modified FROM {table} "
    "WHERE bucket = ? AND key = ? AND version_id IS ?" + extra
    for table, extra in (("objects", ""), ("object_versions", " AND delete_marker = 0"))
}
_ARCHIVE = "UPDATE {table} SET blob_id = ?, inline = NULL, manifest = NULL, attrs = {attrs} WHERE rowid = ?"
_PATCH = "UPDATE objects SET attrs = {attrs} WHERE bucket = ? AND key = ?"
_PATCH_HOLDER = "UPDATE {table} SET attrs = {attrs} WHERE bucket = ? AND key = ? AND blob_id = ?"
_HOLDS = "SELECT 1 FROM {table} WHERE bucket = ? AND key = ? AND blob_id = ?"
_TABLES = ("objects", "object_versions")
_DELETE_OBJECT = "DELETE FROM objects WHERE bucket = ? AND key = ?"
_QUEUE_GARBAGE = "INSERT OR IGNORE INTO blob_garbage (blob_id, queued) VALUES (?, ?)"
_CLEAR_INTENT = "DELETE FROM blob_intents WHERE blob_id = ?"
_ENQUEUE_EVENT = "INSERT INTO s3_event_outbox (destination, payload) VALUES (?, ?)"

_RESTORE_COLUMNS = "archive_id, bucket, key, version_id, ready_at, expires_at, manifest"
_GET_RESTORE = f"SELECT {_RESTORE_COLUMNS} FROM s3_restores WHERE archive_id = ?"
_INSERT_RESTORE = f"INSERT INTO s3_restores ({_RESTORE_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL)"
_DUE = (
    f"SELECT {_RESTORE_COLUMNS} FROM s3_restores WHERE expires_at IS NULL AND ready_at <= ? "
    "ORDER BY ready_at LIMIT ?"
)
_EXPIRED = (
    f"SELECT {_RESTORE_COLUMNS} FROM s3_restores WHERE expires_at IS NOT NULL AND expires_at <= ? "
    "ORDER BY expires_at LIMIT ?"
)
_FINISH = "UPDATE s3_restores SET expires_at = ?, manifest = ? WHERE archive_id = ? AND expires_at IS NULL"
_EXTEND = "UPDATE s3_restores SET expires_at = ? WHERE archive_id = ? AND expires_at IS NOT NULL"
_DROP_RESTORE = f"DELETE FROM s3_restores WHERE archive_id = ? RETURNING {_RESTORE_COLUMNS}"


def _patched(patch: Mapping[str, Any], remove: Sequence[str]) -> tuple[str, list[Any]]:
    """The SQL expression of ``attrs`` with ``patch`` set and ``remove`` dropped, and its parameters.

    Keys are the service's own attribute names (never user input); they still go through
    parameters, as JSON paths.
    """
    expression = "attrs"
    params: list[Any] = []
    if patch:
        pairs = ", ".join("?, json(?)" for _ in patch)
        expression = f"json_set({expression}, {pairs})"
        for name, value in patch.items():
            params += [f'$."{name}"', json.dumps(value, separators=(",", ":"))]
    if remove:
        expression = f"json_remove({expression}, {', '.join('?' for _ in remove)})"
        params += [f'$."{name}"' for name in remove]
    return expression, params


def _manifest_text(copies: Sequence[BlobPart]) -> str:
    return json.dumps([[part.blob_id, part.size] for part in copies], separators=(",", ":"))


def _restore(row: tuple[Any, ...]) -> RestoreRecord:
    copies = None if row[6] is None else [BlobPart(blob, size) for blob, size in load_manifest(row[6])]
    return RestoreRecord(row[0], row[1], row[2], row[4], row[5], copies, row[3])


def _read_restore(conn: sqlite3.Connection, archive_id: str) -> RestoreRecord | None:
    row = conn.execute(_GET_RESTORE, (archive_id,)).fetchone()
    return None if row is None else _restore(row)


def _blobs_of(blob_id: str | None, manifest: str | None) -> list[str]:
    if manifest is not None:
        return [blob for blob, _size in load_manifest(manifest)]
    return [] if blob_id is None else [blob_id]


def _insert_events(conn: sqlite3.Connection, rows: Sequence[S3EventRow]) -> None:
    for row in rows:
        payload = dump_doc({"body": row.body, "base_url": row.base_url})
        row.row_id = int(conn.execute(_ENQUEUE_EVENT, (row.destination, payload)).lastrowid or 0)


def _patch_holder(
    conn: sqlite3.Connection, restore: RestoreRecord, patch: Mapping[str, Any], remove: Sequence[str]
) -> bool:
    """Patch the attrs of the version (current or not) that holds the restore's archive (versions
    never share blobs, so the archive names it); False if none does."""
    expression, params = _patched(patch, remove)
    where = (restore.bucket, restore.key, restore.archive_id)
    for table in _TABLES:
        if expression == "attrs":
            if conn.execute(_HOLDS.format(table=table), where).fetchone() is not None:
                return True
        elif conn.execute(_PATCH_HOLDER.format(table=table, attrs=expression), (*params, *where)).rowcount:
            return True
    return False


class SqliteS3ArchiveRepository:
    """:class:`~kumoi.storage.meta.contract_s3_archive.S3ArchiveRepository` on a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def lifecycle_buckets(self, start: str, limit: int) -> list[BucketRecord]:
        def job(conn: sqlite3.Connection) -> list[BucketRecord]:
            rows = conn.execute(_LIFECYCLE_BUCKETS, (start, limit))
            return [BucketRecord(r[0], r[1], r[2], r[3], load_doc(r[4])) for r in rows]

        return await self._db.read(job)

    async def archive_object(
        self,
        bucket: str,
        key: str,
        etag: str,
        blob_ids: Sequence[str],
        archive_id: str,
        patch: Mapping[str, Any],
        *,
        version_id: str | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> None:
        expression, params = _patched(patch, ())
        expected = list(blob_ids)

        def job(conn: sqlite3.Connection) -> None:
            for table in _TABLES:
                found = conn.execute(_VERSION[table], (bucket, key, version_id)).fetchone()
                if found is not None:
                    break
            else:
                raise ObjectMissing()
            if found[0] != etag or _blobs_of(found[1], found[2]) != expected:
                raise ConditionFailed("ETag")
            conn.execute(_ARCHIVE.format(table=table, attrs=expression), (archive_id, *params, found[3]))
            for blob_id in expected:
                conn.execute(_QUEUE_GARBAGE, (blob_id, found[4]))
            conn.execute(_CLEAR_INTENT, (archive_id,))
            _insert_events(conn, events)

        await self._db.write(job)

    async def apply_changes(self, bucket: str, changes: Sequence[LifecycleChange]) -> list[bool]:
        patch_class = _PATCH.format(attrs="json_set(attrs, '$.StorageClass', ?)")

        def job(conn: sqlite3.Connection) -> list[bool]:
            applied: list[bool] = []
            for change in changes:
                current = conn.execute(_CURRENT, (bucket, change.key)).fetchone()
                if current is None or current[0] != change.etag or current[3] != change.last_modified:
                    applied.append(False)
                    continue
                if change.storage_class is None:
                    conn.execute(_DELETE_OBJECT, (bucket, change.key))
                    for blob_id in _blobs_of(current[1], current[2]):
                        conn.execute(_QUEUE_GARBAGE, (blob_id, change.last_modified))
                else:
                    conn.execute(patch_class, (change.storage_class, bucket, change.key))
                _insert_events(conn, change.events)
                applied.append(True)
            return applied

        return await self._db.write(job)

    async def start_restore(
        self, record: RestoreRecord, patch: Mapping[str, Any], *, events: Sequence[S3EventRow] = ()
    ) -> RestoreRecord | None:
        row = (record.archive_id, record.bucket, record.key, record.version_id, record.ready_at)

        def job(conn: sqlite3.Connection) -> RestoreRecord | None:
            existing = _read_restore(conn, record.archive_id)
            if existing is not None:
                return existing
            if not _patch_holder(conn, record, patch, ()):
                raise ObjectMissing()
            conn.execute(_INSERT_RESTORE, row)
            _insert_events(conn, events)
            return None

        return await self._db.write(job)

    async def get_restore(self, archive_id: str) -> RestoreRecord | None:
        return await self._db.read(lambda conn: _read_restore(conn, archive_id))

    async def due_restores(self, now: float, limit: int) -> list[RestoreRecord]:
        def job(conn: sqlite3.Connection) -> list[RestoreRecord]:
            return [_restore(row) for row in conn.execute(_DUE, (now, limit))]

        return await self._db.read(job)

    async def finish_restore(
        self,
        archive_id: str,
        copies: Sequence[BlobPart],
        expires_at: float,
        patch: Mapping[str, Any],
        *,
        events: Sequence[S3EventRow] = (),
    ) -> bool:
        manifest = _manifest_text(copies)

        def job(conn: sqlite3.Connection) -> bool:
            for part in copies:
                conn.execute(_CLEAR_INTENT, (part.blob_id,))
            restore = _read_restore(conn, archive_id)
            if (
                restore is None
                or restore.expires_at is not None
                or not _patch_holder(conn, restore, patch, ())
            ):
                if restore is not None and restore.expires_at is None:
                    conn.execute(_DROP_RESTORE, (archive_id,))
                for part in copies:
                    conn.execute(_QUEUE_GARBAGE, (part.blob_id, expires_at))
                return False
            conn.execute(_FINISH, (expires_at, manifest, archive_id))
            _insert_events(conn, events)
            return True

        return await self._db.write(job)

    async def extend_restore(self, archive_id: str, expires_at: float, patch: Mapping[str, Any]) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            restore = _read_restore(conn, archive_id)
            if restore is None or restore.expires_at is None:
                return False
            conn.execute(_EXTEND, (expires_at, archive_id))
            _patch_holder(conn, restore, patch, ())
            return True

        return await self._db.write(job)

    async def expired_restores(self, now: float, limit: int) -> list[RestoreRecord]:
        def job(conn: sqlite3.Connection) -> list[RestoreRecord]:
            return [_restore(row) for row in conn.execute(_EXPIRED, (now, limit))]

        return await self._db.read(job)

    async def end_restore(
        self, archive_id: str, remove: Sequence[str], *, events: Sequence[S3EventRow] = ()
    ) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            rows = conn.execute(_DROP_RESTORE, (archive_id,)).fetchall()
            if not rows:
                return False
            restore = _restore(rows[0])
            for part in restore.copies or ():
                conn.execute(_QUEUE_GARBAGE, (part.blob_id, restore.expires_at or 0.0))
            if not _patch_holder(conn, restore, {}, remove):
                return False
            _insert_events(conn, events)
            return True

        return await self._db.write(job)
