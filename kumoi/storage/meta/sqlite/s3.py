"""S3 buckets, objects and multipart uploads in SQLite.

``objects`` has the primary key ``(bucket, key)``: a listing is a range scan of that index from
the lower bound, stopping after ``limit`` rows, whatever the bucket's size. Replacing or deleting
an object queues its blobs for garbage collection in the same write job, and a put clears the new
blob's write intent there too, so there is never a moment where a blob is referenced and still
marked as an intent, or unreferenced and not queued.

A completed multipart object references its parts' blobs through ``manifest`` (JSON
``[[blob_id, size], ...]``): completion moves the references from ``s3_parts`` to the object in
one transaction and copies no data. Conditional writes check their precondition inside the write
job, so of several racing conditional writers exactly one can win.
"""

from __future__ import annotations

import functools
import json
import operator
import sqlite3
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from kumoi.storage.meta.contract import (
    BucketExists,
    BucketMissing,
    BucketNotEmpty,
    BucketRecord,
    ConditionFailed,
    ListedObject,
    ListedVersion,
    ObjectMissing,
    ObjectRecord,
    PartRecord,
    PartsChanged,
    PutCondition,
    S3EventRow,
    UploadMissing,
    UploadRecord,
    VersionDelete,
)
from kumoi.storage.meta.sqlite import s3_versions
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database
from kumoi.storage.meta.sqlite.keyrange import key_range, range_sql
from kumoi.storage.meta.sqlite.s3_versions import OBJECT_COLUMNS as _OBJECT_COLUMNS

_BUCKET_COLUMNS = "name, account_id, region, created, config"
# A listing reads only what it shows: the checksum names come from their own column, the storage
# class (which lifecycle transitions patch) and the owner out of the JSON in SQLite (no document
# decoded per row), the owner only when the listing shows it. Object bytes and manifests are never
# converted. ``listed_checksums`` was appended after them (ALTER TABLE adds columns last), so for
# an object whose inline bytes overflow its page, reading it walks the overflow pages: still
# cheaper than walking the JSON (1,000 objects of 4 KiB: 1.6 ms against 1.74 ms; 160 B: 1.0 ms
# against 1.9 ms).
_LISTED_COLUMNS = (
    "key, size, etag, last_modified, blob_id, json_extract(attrs, '$.StorageClass'), "
    "listed_checksums, {owner}"
)
_OWNER = "json_extract(attrs, '$.Owner')"

_GET_BUCKET = f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE name = ?"
_INSERT_BUCKET = f"INSERT INTO buckets ({_BUCKET_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
_BUCKET_CONFIG = "SELECT config FROM buckets WHERE name = ?"
_UPDATE_BUCKET = "UPDATE buckets SET config = ? WHERE name = ?"
_BUCKET_EXISTS = "SELECT 1 FROM buckets WHERE name = ?"
_ANY_OBJECT = "SELECT 1 FROM objects WHERE bucket = ? LIMIT 1"
_DELETE_BUCKET = "DELETE FROM buckets WHERE name = ?"
_LIST_BUCKETS = range_sql(
    f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE account_id = :owner AND {{range}} "
    "ORDER BY name LIMIT :limit",
    "name",
)

_ENQUEUE_EVENT = "INSERT INTO s3_event_outbox (destination, payload) VALUES (?, ?)"
_PENDING_EVENTS = (
    "SELECT row_id, destination, payload FROM s3_event_outbox WHERE row_id > ? ORDER BY row_id LIMIT ?"
)
_FINISH_EVENT = "DELETE FROM s3_event_outbox WHERE row_id = ?"

_GET_OBJECT = f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?"
_CURRENT = "SELECT etag, blob_id, manifest, version_id FROM objects WHERE bucket = ? AND key = ?"
_UPSERT_OBJECT = (
    f"INSERT INTO objects ({_OBJECT_COLUMNS}, listed_checksums) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
    "last_modified = excluded.last_modified, blob_id = excluded.blob_id, inline = excluded.inline, "
    "attrs = excluded.attrs, manifest = excluded.manifest, version_id = excluded.version_id, "
    "listed_checksums = excluded.listed_checksums"
)
_UPDATE_ATTRS = "UPDATE objects SET attrs = ?, listed_checksums = ? WHERE bucket = ? AND key = ?"
_DELETE_OBJECT = f"DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING {_OBJECT_COLUMNS}"
#: The listing queries by (whether they read the owner, exclusive, bounded above).
_LIST_OBJECTS = {
    (with_owner, *variant): sql
    for with_owner in (False, True)
    for variant, sql in range_sql(
        f"SELECT {_LISTED_COLUMNS.format(owner=_OWNER if with_owner else 'NULL')} FROM objects "
        "WHERE bucket = :bucket AND {range} ORDER BY key LIMIT :limit",
        "key",
    ).items()
}
_QUEUE_GARBAGE = "INSERT OR IGNORE INTO blob_garbage (blob_id, queued) VALUES (?, ?)"
_CLEAR_INTENT = "DELETE FROM blob_intents WHERE blob_id = ?"

_UPLOAD_COLUMNS = "upload_id, bucket, key, initiated, attrs"
_PART_COLUMNS = "upload_id, part_number, size, etag, blob_id, last_modified, checksums"
_INSERT_UPLOAD = f"INSERT INTO s3_uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
_GET_UPLOAD = f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE upload_id = ?"
_UPLOAD_EXISTS = "SELECT 1 FROM s3_uploads WHERE upload_id = ?"
_DELETE_UPLOAD = "DELETE FROM s3_uploads WHERE upload_id = ?"
_PART_BLOB = "SELECT blob_id FROM s3_parts WHERE upload_id = ? AND part_number = ?"
_UPSERT_PART = (
    f"INSERT INTO s3_parts ({_PART_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
    "blob_id = excluded.blob_id, last_modified = excluded.last_modified, checksums = excluded.checksums"
)
_LIST_PARTS = (
    f"SELECT {_PART_COLUMNS} FROM s3_parts WHERE upload_id = ? AND part_number > ? "
    "ORDER BY part_number LIMIT ?"
)
_PART_BLOBS = "SELECT part_number, blob_id FROM s3_parts WHERE upload_id = ?"
_DELETE_PARTS = "DELETE FROM s3_parts WHERE upload_id = ?"
_BUCKET_UPLOADS = "SELECT upload_id FROM s3_uploads WHERE bucket = ?"
_LIST_UPLOADS_AT_KEY = (
    f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = ? AND key = ? AND upload_id > ? "
    "ORDER BY upload_id LIMIT ?"
)
_LIST_UPLOADS = range_sql(
    f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = :bucket AND {{range}} "
    "ORDER BY key, upload_id LIMIT :limit",
    "key",
)
_OLD_UPLOADS = f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE initiated < ? ORDER BY initiated LIMIT ?"


def load_manifest(text: str) -> list[tuple[str, int]]:
    """(blob id, size) of each part a multipart object's ``manifest`` column lists."""
    return [(str(blob_id), int(size)) for blob_id, size in json.loads(text)]


def _patch_bucket_config(
    conn: sqlite3.Connection, name: str, setting: str, value: Any, *, remove: bool
) -> None:
    """Set or remove one entry of the bucket's configuration as it is inside this write."""
    row = conn.execute(_BUCKET_CONFIG, (name,)).fetchone()
    if row is None:
        return
    config = load_doc(row[0])
    if remove:
        if setting not in config:
            return
        del config[setting]
    else:
        config[setting] = value
    conn.execute(_UPDATE_BUCKET, (dump_doc(config), name))


def _bucket(row: tuple[Any, ...]) -> BucketRecord:
    return BucketRecord(row[0], row[1], row[2], row[3], load_doc(row[4]))


_object = s3_versions.record_of


#: A listing row as a :class:`ListedObject`, built in C (``ListedObject._make`` runs Python code).
_listed: Callable[[tuple[Any, ...]], ListedObject] = functools.partial(tuple.__new__, ListedObject)


def _listing_read(
    bucket: str, prefix: str, after: str, limit: int, with_owner: bool
) -> tuple[Hashable, Callable[[sqlite3.Connection], tuple[ListedObject, ...]]]:
    """The cache key and the read of one :meth:`SqliteS3Repository.list_objects` call."""
    bounds = key_range(prefix, after)
    sql = _LIST_OBJECTS[(with_owner, bounds.exclusive, bounds.upper is not None)]
    params = {"bucket": bucket, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}

    def job(conn: sqlite3.Connection) -> tuple[ListedObject, ...]:
        return tuple(map(_listed, conn.execute(sql, params)))

    return ("objects", bucket, prefix, after, limit, with_owner), job


def _versions_read(
    bucket: str, prefix: str, key_marker: str, version_marker: str, limit: int
) -> tuple[Hashable, Callable[[sqlite3.Connection], tuple[ListedVersion, ...]]]:
    """The cache key and the read of one :meth:`SqliteS3Repository.list_versions` call."""

    def job(conn: sqlite3.Connection) -> tuple[ListedVersion, ...]:
        return tuple(s3_versions.list_versions(conn, bucket, prefix, key_marker, version_marker, limit))

    return ("versions", bucket, prefix, key_marker, version_marker, limit), job


#: What a listed record costs in memory besides its key: the tuple, its ETag, checksum names,
#: blob id and the other values (measured: 355 bytes a record of a 1,000-key page of 12-byte
#: keys, inline objects; a blob id adds 81).
_LISTED_RECORD_COST = 440
_key_of = operator.itemgetter(0)


def _listing_size(records: tuple[ListedObject, ...] | tuple[ListedVersion, ...]) -> int:
    """What keeping a page costs, roughly: summing every value's length cost 0.46 ms a page on
    the event loop, the keys alone 0.03 ms."""
    return sum(map(len, map(_key_of, records))) + _LISTED_RECORD_COST * len(records)


def _rows_size(rows: tuple[Any, ...]) -> int:
    """Bytes of the text and blob values of some rows (what caching them costs, roughly)."""
    return sum(
        len(value) for row in rows if row is not None for value in row if isinstance(value, (str, bytes))
    )


def _upload(row: tuple[Any, ...]) -> UploadRecord:
    return UploadRecord(row[0], row[1], row[2], row[3], load_doc(row[4]))


def _part(row: tuple[Any, ...]) -> PartRecord:
    return PartRecord(row[0], row[1], row[2], row[3], row[4], row[5], load_doc(row[6]))


def _object_row(record: ObjectRecord) -> tuple[Any, ...]:
    manifest = None
    if record.manifest is not None:
        manifest = json.dumps([[part.blob_id, part.size] for part in record.manifest], separators=(",", ":"))
    return (
        record.bucket,
        record.key,
        record.size,
        record.etag,
        record.last_modified,
        record.blob_id,
        dump_doc(record.attrs),
        record.inline,
        manifest,
        record.version_id,
        listed_checksums(record.attrs),
    )


def listed_checksums(attrs: Mapping[str, Any]) -> str | None:
    """The ``listed_checksums`` column of an object with these attributes: its checksum
    algorithms as listings name them and its checksum type (``CRC32,SHA256:FULL_OBJECT``), None
    without checksums. The schema's migration fills existing rows with the same text."""
    names = attrs.get("Checksums")
    if not names:
        return None
    return f"{','.join(names).upper()}:{attrs.get('ChecksumType', 'FULL_OBJECT')}"


def _blobs_of_row(blob_id: str | None, manifest: str | None) -> list[str]:
    if manifest is not None:
        return [blob_id for blob_id, _size in load_manifest(manifest)]
    return [] if blob_id is None else [blob_id]


def _check(current: tuple[Any, ...] | None, condition: PutCondition) -> None:
    """Raise when ``condition`` does not hold for the current row ``(etag, blob_id, manifest, ...)``."""
    if condition.if_none_match and current is not None:
        raise ConditionFailed("If-None-Match")
    if condition.if_match is not None:
        if current is None:
            raise ObjectMissing()
        if condition.if_match not in ("*", current[0]):
            raise ConditionFailed("If-Match")
    if condition.same_blobs is not None:
        if current is None:
            raise ObjectMissing()
        if tuple(_blobs_of_row(current[1], current[2])) != condition.same_blobs:
            raise ConditionFailed("x-amz-copy-source")


def _replace_object(
    conn: sqlite3.Connection,
    record: ObjectRecord,
    condition: PutCondition | None,
    events: Sequence[S3EventRow] = (),
    versioned: bool = False,
) -> None:
    """Upsert ``record`` (checking ``condition``), queue the blobs it no longer references, clear
    the intents of the blobs it references, store its ``events``. Runs inside a write job.
    ``versioned``: keep the version it supersedes (see :func:`s3_versions.supersede`)."""
    row = _object_row(record)
    if conn.execute(_BUCKET_EXISTS, (record.bucket,)).fetchone() is None:
        raise BucketMissing(record.bucket)
    current = conn.execute(_CURRENT, (record.bucket, record.key)).fetchone()
    if condition is not None:
        _check(current, condition)
    new_blobs = record.blob_ids()
    if versioned:
        s3_versions.supersede(
            conn, record.bucket, record.key, record.version_id, record.last_modified, set(new_blobs), current
        )
        current = None
    conn.execute(_UPSERT_OBJECT, row)
    if current is not None:
        kept = set(new_blobs)
        for old in _blobs_of_row(current[1], current[2]):
            if old not in kept:
                conn.execute(_QUEUE_GARBAGE, (old, record.last_modified))
    for blob_id in new_blobs:
        conn.execute(_CLEAR_INTENT, (blob_id,))
    _insert_events(conn, events)


def _insert_events(conn: sqlite3.Connection, rows: Sequence[S3EventRow]) -> None:
    """Store ``rows`` in the event outbox (inside the write job that makes their change)."""
    for row in rows:
        payload = dump_doc({"body": row.body, "base_url": row.base_url})
        row.row_id = int(conn.execute(_ENQUEUE_EVENT, (row.destination, payload)).lastrowid or 0)


def _drop_upload(conn: sqlite3.Connection, upload_id: str, keep: set[str], now: float) -> None:
    for _number, blob_id in conn.execute(_PART_BLOBS, (upload_id,)).fetchall():
        if blob_id not in keep:
            conn.execute(_QUEUE_GARBAGE, (blob_id, now))
    conn.execute(_DELETE_PARTS, (upload_id,))
    conn.execute(_DELETE_UPLOAD, (upload_id,))


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
        def job(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = conn.execute(_GET_BUCKET, (name,)).fetchone()
            return row

        row = await self._db.read_cached(("bucket", name), job, lambda found: _rows_size((found,)))
        return None if row is None else _bucket(row)

    async def list_buckets(
        self, account_id: str, prefix: str = "", after: str = "", limit: int = 10000
    ) -> list[BucketRecord]:
        bounds = key_range(prefix, after)
        sql = _LIST_BUCKETS[(bounds.exclusive, bounds.upper is not None)]
        params = {"owner": account_id, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}

        def job(conn: sqlite3.Connection) -> list[BucketRecord]:
            return [_bucket(row) for row in conn.execute(sql, params)]

        return await self._db.read(job)

    async def set_bucket_setting(self, name: str, setting: str, value: Any) -> None:
        await self._db.write(lambda conn: _patch_bucket_config(conn, name, setting, value, remove=False))

    async def remove_bucket_setting(self, name: str, setting: str) -> None:
        await self._db.write(lambda conn: _patch_bucket_config(conn, name, setting, None, remove=True))

    async def delete_bucket(self, name: str) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            if conn.execute(_BUCKET_EXISTS, (name,)).fetchone() is None:
                return False
            if conn.execute(_ANY_OBJECT, (name,)).fetchone() is not None or s3_versions.any_version(
                conn, name
            ):
                raise BucketNotEmpty(name)
            for (upload_id,) in conn.execute(_BUCKET_UPLOADS, (name,)).fetchall():
                _drop_upload(conn, upload_id, set(), 0.0)
            conn.execute(_DELETE_BUCKET, (name,))
            return True

        return await self._db.write(job)

    async def put_object(
        self, record: ObjectRecord, *, events: Sequence[S3EventRow] = (), versioned: bool = False
    ) -> None:
        await self._db.write(lambda conn: _replace_object(conn, record, None, events, versioned))

    async def put_object_if(
        self,
        record: ObjectRecord,
        condition: PutCondition,
        *,
        events: Sequence[S3EventRow] = (),
        versioned: bool = False,
    ) -> None:
        await self._db.write(lambda conn: _replace_object(conn, record, condition, events, versioned))

    async def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        def job(conn: sqlite3.Connection) -> ObjectRecord | None:
            row = conn.execute(_GET_OBJECT, (bucket, key)).fetchone()
            return None if row is None else _object(row)

        return await self._db.read(job)

    async def get_bucket_and_object(
        self, bucket: str, key: str
    ) -> tuple[BucketRecord | None, ObjectRecord | None]:
        def job(conn: sqlite3.Connection) -> tuple[Any, Any]:
            bucket_row = conn.execute(_GET_BUCKET, (bucket,)).fetchone()
            if bucket_row is None:
                return None, None
            return bucket_row, conn.execute(_GET_OBJECT, (bucket, key)).fetchone()

        # Rows, not records, are cached: records are mutable, rows are not (see Database.read_cached).
        bucket_row, row = await self._db.read_cached(("bucket+object", bucket, key), job, _rows_size)
        if bucket_row is None:
            return None, None
        return _bucket(bucket_row), None if row is None else _object(row)

    async def delete_object(
        self, bucket: str, key: str, *, events: Sequence[S3EventRow] = ()
    ) -> ObjectRecord | None:
        def job(conn: sqlite3.Connection) -> ObjectRecord | None:
            removed = _delete_one(conn, bucket, key)
            if removed is not None:
                _insert_events(conn, events)
            return removed

        return await self._db.write(job)

    async def delete_objects(
        self, bucket: str, keys: list[str], *, events: Mapping[str, Sequence[S3EventRow]] | None = None
    ) -> list[str]:
        chosen = events or {}

        def job(conn: sqlite3.Connection) -> list[str]:
            removed = [key for key in keys if _delete_one(conn, bucket, key) is not None]
            for key in removed:
                _insert_events(conn, chosen.get(key, ()))
            return removed

        return await self._db.write(job)

    async def update_object_attrs(
        self, bucket: str, key: str, etag: str, attrs: dict[str, Any], *, events: Sequence[S3EventRow] = ()
    ) -> None:
        params = (dump_doc(attrs), listed_checksums(attrs), bucket, key)

        def job(conn: sqlite3.Connection) -> None:
            current = conn.execute(_CURRENT, (bucket, key)).fetchone()
            if current is None:
                raise ObjectMissing()
            if current[0] != etag:
                raise ConditionFailed("ETag")
            conn.execute(_UPDATE_ATTRS, params)
            _insert_events(conn, events)

        await self._db.write(job)

    async def list_objects(
        self, bucket: str, prefix: str = "", after: str = "", limit: int = 1000, *, with_owner: bool = True
    ) -> list[ListedObject]:
        key, job = _listing_read(bucket, prefix, after, limit, with_owner)
        records = await self._db.read_cached(key, job, _listing_size)
        return list(records)  # a list of its own: the kept tuple is shared by every reader

    def read_ahead_objects(
        self, bucket: str, prefix: str, after: str, limit: int, *, with_owner: bool = True
    ) -> None:
        key, job = _listing_read(bucket, prefix, after, limit, with_owner)
        self._db.read_ahead(key, job, _listing_size)

    # Versions

    async def get_version(self, bucket: str, key: str, version_id: str | None) -> ObjectRecord | None:
        return await self._db.read(lambda conn: s3_versions.get_version(conn, bucket, key, version_id))

    async def latest_version(self, bucket: str, key: str) -> ObjectRecord | None:
        return await self._db.read(lambda conn: s3_versions.latest_version(conn, bucket, key))

    async def add_delete_marker(self, marker: ObjectRecord, *, events: Sequence[S3EventRow] = ()) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(_BUCKET_EXISTS, (marker.bucket,)).fetchone() is None:
                raise BucketMissing(marker.bucket)
            s3_versions.add_marker(conn, marker)
            _insert_events(conn, events)

        await self._db.write(job)

    async def delete_version(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        *,
        expect: Mapping[str, Any] | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> ObjectRecord | None:
        def job(conn: sqlite3.Connection) -> ObjectRecord | None:
            removed = s3_versions.delete_version(conn, bucket, key, version_id, expect)
            if removed is not None:
                _insert_events(conn, events)
            return removed

        return await self._db.write(job)

    async def delete_versions(
        self,
        bucket: str,
        deletes: Sequence[VersionDelete],
        *,
        events: Mapping[int, Sequence[S3EventRow]] | None = None,
    ) -> list[ObjectRecord | None]:
        chosen = events or {}

        def job(conn: sqlite3.Connection) -> list[ObjectRecord | None]:
            if (
                any(entry.marker for entry in deletes)
                and conn.execute(_BUCKET_EXISTS, (bucket,)).fetchone() is None
            ):
                raise BucketMissing(bucket)
            done: list[ObjectRecord | None] = []
            for index, entry in enumerate(deletes):
                result: ObjectRecord | None
                if entry.marker is not None:
                    s3_versions.add_marker(conn, entry.marker)
                    result = entry.marker
                else:
                    result = s3_versions.delete_version(
                        conn, bucket, entry.key, entry.version_id, entry.expect
                    )
                if result is not None:
                    _insert_events(conn, chosen.get(index, ()))
                done.append(result)
            return done

        return await self._db.write(job)

    async def patch_version_attrs(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
        events: Sequence[S3EventRow] = (),
    ) -> ObjectRecord:
        def job(conn: sqlite3.Connection) -> ObjectRecord:
            record = s3_versions.patch_attrs(conn, bucket, key, version_id, changes, expect)
            _insert_events(conn, events)
            return record

        return await self._db.write(job)

    async def list_versions(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        version_marker: str = "",
        limit: int = 1000,
    ) -> list[ListedVersion]:
        key, job = _versions_read(bucket, prefix, key_marker, version_marker, limit)
        versions = await self._db.read_cached(key, job, _listing_size)
        return list(versions)  # a list of its own: the kept tuple is shared by every reader

    def read_ahead_versions(
        self, bucket: str, prefix: str, key_marker: str, version_marker: str, limit: int
    ) -> None:
        key, job = _versions_read(bucket, prefix, key_marker, version_marker, limit)
        self._db.read_ahead(key, job, _listing_size)

    # Multipart uploads

    async def create_upload(self, record: UploadRecord) -> None:
        row = (record.upload_id, record.bucket, record.key, record.initiated, dump_doc(record.attrs))

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(_BUCKET_EXISTS, (record.bucket,)).fetchone() is None:
                raise BucketMissing(record.bucket)
            conn.execute(_INSERT_UPLOAD, row)

        await self._db.write(job)

    async def get_upload(self, upload_id: str) -> UploadRecord | None:
        def job(conn: sqlite3.Connection) -> UploadRecord | None:
            row = conn.execute(_GET_UPLOAD, (upload_id,)).fetchone()
            return None if row is None else _upload(row)

        return await self._db.read(job)

    async def put_part(self, record: PartRecord) -> None:
        row = (
            record.upload_id,
            record.part_number,
            record.size,
            record.etag,
            record.blob_id,
            record.last_modified,
            dump_doc(record.checksums),
        )

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(_UPLOAD_EXISTS, (record.upload_id,)).fetchone() is None:
                raise UploadMissing(record.upload_id)
            old = conn.execute(_PART_BLOB, (record.upload_id, record.part_number)).fetchone()
            conn.execute(_UPSERT_PART, row)
            if old is not None and old[0] != record.blob_id:
                conn.execute(_QUEUE_GARBAGE, (old[0], record.last_modified))
            conn.execute(_CLEAR_INTENT, (record.blob_id,))

        await self._db.write(job)

    async def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
        def job(conn: sqlite3.Connection) -> list[PartRecord]:
            return [_part(row) for row in conn.execute(_LIST_PARTS, (upload_id, after, limit))]

        return await self._db.read(job)

    async def list_uploads(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        limit: int = 1000,
    ) -> list[UploadRecord]:
        bounds = key_range(prefix, key_marker)
        sql = _LIST_UPLOADS[(bounds.exclusive, bounds.upper is not None)]
        params = {"bucket": bucket, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}
        same_key = bool(upload_id_marker) and key_marker.startswith(prefix) and bool(key_marker)

        def job(conn: sqlite3.Connection) -> list[UploadRecord]:
            found: list[UploadRecord] = []
            if same_key:
                rows = conn.execute(_LIST_UPLOADS_AT_KEY, (bucket, key_marker, upload_id_marker, limit))
                found = [_upload(row) for row in rows]
            if len(found) < limit:
                params["limit"] = limit - len(found)
                found += [_upload(row) for row in conn.execute(sql, params)]
            return found

        return await self._db.read(job)

    async def abort_upload(self, upload_id: str) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            if conn.execute(_UPLOAD_EXISTS, (upload_id,)).fetchone() is None:
                return False
            _drop_upload(conn, upload_id, set(), 0.0)
            return True

        return await self._db.write(job)

    async def complete_upload(
        self,
        upload_id: str,
        record: ObjectRecord,
        condition: PutCondition | None = None,
        *,
        events: Sequence[S3EventRow] = (),
        versioned: bool = False,
    ) -> None:
        chosen = record.blob_ids()

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(_UPLOAD_EXISTS, (upload_id,)).fetchone() is None:
                raise UploadMissing(upload_id)
            current = {blob_id for _number, blob_id in conn.execute(_PART_BLOBS, (upload_id,))}
            if not current.issuperset(chosen):
                raise PartsChanged(upload_id)
            _replace_object(conn, record, condition, events, versioned)
            _drop_upload(conn, upload_id, set(chosen), record.last_modified)

        await self._db.write(job)

    async def uploads_initiated_before(self, cutoff: float, limit: int = 1000) -> list[UploadRecord]:
        def job(conn: sqlite3.Connection) -> list[UploadRecord]:
            return [_upload(row) for row in conn.execute(_OLD_UPLOADS, (cutoff, limit))]

        return await self._db.read(job)

    async def pending_events(self, after: int, limit: int) -> list[S3EventRow]:
        def job(conn: sqlite3.Connection) -> list[S3EventRow]:
            rows: list[S3EventRow] = []
            for row_id, destination, payload in conn.execute(_PENDING_EVENTS, (after, limit)):
                doc = load_doc(payload)
                rows.append(S3EventRow(destination, doc["body"], doc["base_url"], row_id))
            return rows

        return await self._db.read(job)

    async def finish_events(self, row_ids: list[int]) -> None:
        keys = [(row_id,) for row_id in row_ids]
        await self._db.write(lambda conn: conn.executemany(_FINISH_EVENT, keys))


def _delete_one(conn: sqlite3.Connection, bucket: str, key: str) -> ObjectRecord | None:
    rows = conn.execute(_DELETE_OBJECT, (bucket, key)).fetchall()
    if not rows:
        return None
    record = _object(rows[0])
    for blob_id in record.blob_ids():
        conn.execute(_QUEUE_GARBAGE, (blob_id, record.last_modified))
    return record
