"""S3 object versions in SQLite: noncurrent versions and delete markers beside ``objects``.

``objects`` keeps holding each key's *current* version (``version_id`` NULL for the null
version), so reads, writes and listings of an unversioned bucket never touch this module's
table. ``object_versions`` holds every other version and every delete marker. Its ``seq`` (the
rowid) of a new row is above every row's in the table, and a row is only ever inserted as the
newest version of its key (the current version moving out of ``objects``, or a new delete
marker), so the index ``(bucket, key, seq DESC)`` reads a key's versions newest first. (A
deleted row's ``seq`` may be given again later: versions are named by their version id, never by
``seq``.) Invariants, kept by every write job here:

- a key with a row in ``objects`` has all its other versions in ``object_versions``, all older;
- at most one ``object_versions`` row of a key has ``superseded`` NULL: the delete marker that is
  the key's latest version, and only when ``objects`` has no row for the key;
- versions never share blobs, so deleting one queues its blobs as garbage unconditionally.

A version listing merges two range scans (``objects`` by key and ``object_versions`` by key,
seq) of at most ``limit`` rows each, so it costs O(limit) whatever the number of versions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from kumoi.storage.meta.contract import (
    NULL_VERSION,
    BlobPart,
    ConditionFailed,
    ListedVersion,
    ObjectMissing,
    ObjectRecord,
    VersionMissing,
)
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.keyrange import key_range, range_sql

#: Columns of ``objects`` as :func:`record_of` reads them (``s3.py`` reads the same ones).
OBJECT_COLUMNS = "bucket, key, size, etag, last_modified, blob_id, attrs, inline, manifest, version_id"
_VERSION_COLUMNS = f"{OBJECT_COLUMNS}, delete_marker"
#: What moves between the two tables (both have these columns).
_MOVED = (
    "bucket, key, version_id, size, etag, last_modified, blob_id, attrs, manifest, inline, listed_checksums"
)
_LISTED_EXTRAS = "json_extract(attrs, '$.StorageClass'), listed_checksums, json_extract(attrs, '$.Owner')"

_QUEUE_GARBAGE = "INSERT OR IGNORE INTO blob_garbage (blob_id, queued) VALUES (?, ?)"
_CURRENT_ID = "SELECT etag, blob_id, manifest, version_id FROM objects WHERE bucket = ? AND key = ?"
_DEMOTE = (
    f"INSERT INTO object_versions ({_MOVED}, delete_marker, superseded) "
    f"SELECT {_MOVED}, 0, ? FROM objects WHERE bucket = ? AND key = ?"
)
_DROP_CURRENT = "DELETE FROM objects WHERE bucket = ? AND key = ?"
_DROP_CURRENT_VERSION = (
    f"DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id IS ? RETURNING {OBJECT_COLUMNS}"
)
_DROP_SAME_ID = (
    "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id IS ? "
    f"RETURNING seq, superseded, {_VERSION_COLUMNS}"
)
_TOP = "SELECT seq, delete_marker FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1"
_SUPERSEDE_TOP = (
    "UPDATE object_versions SET superseded = ? WHERE seq = "
    "(SELECT seq FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1) "
    "AND superseded IS NULL"
)
_MAKE_LATEST = "UPDATE object_versions SET superseded = NULL WHERE seq = ?"
_PROMOTE = f"INSERT INTO objects ({_MOVED}) SELECT {_MOVED} FROM object_versions WHERE seq = ?"
_DROP_SEQ = "DELETE FROM object_versions WHERE seq = ?"
_INSERT_MARKER = (
    "INSERT INTO object_versions (bucket, key, version_id, delete_marker, superseded, size, etag, "
    "last_modified, attrs) VALUES (?, ?, ?, 1, NULL, 0, '', ?, ?)"
)
_GET_CURRENT = f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?"
_GET_CURRENT_VERSION = (
    f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ? AND version_id IS ?"
)
_GET_OLD_VERSION = (
    f"SELECT seq, {_VERSION_COLUMNS} FROM object_versions WHERE bucket = ? AND key = ? AND version_id IS ? "
    "ORDER BY seq DESC LIMIT 1"
)
_GET_TOP = (
    f"SELECT seq, {_VERSION_COLUMNS} FROM object_versions WHERE bucket = ? AND key = ? "
    "ORDER BY seq DESC LIMIT 1"
)
_SET_CURRENT_ATTRS = "UPDATE objects SET attrs = ? WHERE bucket = ? AND key = ?"
_SET_OLD_ATTRS = "UPDATE object_versions SET attrs = ? WHERE seq = ?"
_ANY_VERSION = "SELECT 1 FROM object_versions WHERE bucket = ? LIMIT 1"

_LIST_CURRENT = range_sql(
    f"SELECT key, version_id, 1, 0, size, etag, last_modified, NULL, {_LISTED_EXTRAS} "
    "FROM objects WHERE bucket = :bucket AND {range} ORDER BY key LIMIT :limit",
    "key",
)
_LIST_OLD = range_sql(
    "SELECT key, version_id, superseded IS NULL, delete_marker, size, etag, last_modified, superseded, "
    f"{_LISTED_EXTRAS}, seq FROM object_versions WHERE bucket = :bucket AND {{range}} "
    "ORDER BY key, seq DESC LIMIT :limit",
    "key",
)
_LIST_OLD_OF_KEY = (
    "SELECT key, version_id, superseded IS NULL, delete_marker, size, etag, last_modified, superseded, "
    f"{_LISTED_EXTRAS}, seq FROM object_versions WHERE bucket = ? AND key = ? AND seq < ? "
    "ORDER BY seq DESC LIMIT ?"
)
#: Above every ``seq``: the position of a key's current version (newer than all of its others).
_CURRENT_POSITION = 1 << 62


def load_manifest(text: str) -> list[BlobPart]:
    return [BlobPart(str(blob_id), int(size)) for blob_id, size in json.loads(text)]


def record_of(row: tuple[Any, ...]) -> ObjectRecord:
    """An :class:`ObjectRecord` from a row of :data:`OBJECT_COLUMNS` (plus ``delete_marker``)."""
    manifest = None if row[8] is None else load_manifest(row[8])
    record = ObjectRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[7], load_doc(row[6]), manifest)
    record.version_id = row[9]
    if len(row) > 10:
        record.delete_marker = bool(row[10])
    return record


def _blobs(blob_id: str | None, manifest: str | None) -> list[str]:
    if manifest is not None:
        return [part.blob_id for part in load_manifest(manifest)]
    return [] if blob_id is None else [blob_id]


def _garbage(conn: sqlite3.Connection, blob_ids: list[str], now: float) -> None:
    for blob_id in blob_ids:
        conn.execute(_QUEUE_GARBAGE, (blob_id, now))


def supersede(
    conn: sqlite3.Connection,
    bucket: str,
    key: str,
    version_id: str | None,
    now: float,
    keep: set[str],
    current: tuple[Any, ...] | None,
) -> None:
    """Make room for a new latest version ``version_id`` of ``key``, written at ``now``: the
    version with that id (the null one, under Suspended) goes for good, the current version
    becomes noncurrent, the latest delete marker becomes an older one. The caller then writes
    the new version: a row of ``objects``, or (:func:`add_marker`) of ``object_versions``.
    ``keep``: blobs the new version references (never queued as garbage). ``current``: the
    key's ``objects`` row as ``(etag, blob_id, manifest, version_id)`` (the caller read it in
    this write job), None if it has none."""
    if version_id is None:
        for row in conn.execute(_DROP_SAME_ID, (bucket, key, None)).fetchall():
            _garbage(conn, [b for b in _blobs(row[7], row[10]) if b not in keep], now)
    if current is None:
        conn.execute(_SUPERSEDE_TOP, (now, bucket, key))
    elif current[3] == version_id:
        _garbage(conn, [b for b in _blobs(current[1], current[2]) if b not in keep], now)
    else:
        conn.execute(_DEMOTE, (now, bucket, key))


def add_marker(conn: sqlite3.Connection, marker: ObjectRecord) -> None:
    """Make the delete marker ``marker`` the key's latest version (inside a write job)."""
    current = conn.execute(_CURRENT_ID, (marker.bucket, marker.key)).fetchone()
    supersede(conn, marker.bucket, marker.key, marker.version_id, marker.last_modified, set(), current)
    conn.execute(_DROP_CURRENT, (marker.bucket, marker.key))
    conn.execute(
        _INSERT_MARKER,
        (marker.bucket, marker.key, marker.version_id, marker.last_modified, dump_doc(marker.attrs)),
    )


def delete_version(
    conn: sqlite3.Connection,
    bucket: str,
    key: str,
    version_id: str | None,
    expect: Mapping[str, Any] | None = None,
) -> ObjectRecord | None:
    """Delete one version for good (inside a write job); the next older one becomes the latest
    if it was the latest. ``expect``: attrs members that must still have these values."""
    if expect:
        found = get_version(conn, bucket, key, version_id)
        if found is not None:
            _check_expected(found.attrs, expect)
    rows = conn.execute(_DROP_CURRENT_VERSION, (bucket, key, version_id)).fetchall()
    if rows:
        removed = record_of(rows[0])
        was_latest = True
    else:
        old = conn.execute(_DROP_SAME_ID, (bucket, key, version_id)).fetchall()
        if not old:
            return None
        removed = record_of(old[0][2:])
        was_latest = old[0][1] is None
    _garbage(conn, removed.blob_ids(), removed.last_modified)
    if was_latest:
        _promote(conn, bucket, key)
    return removed


def _promote(conn: sqlite3.Connection, bucket: str, key: str) -> None:
    """The newest remaining version of ``key`` becomes its latest (current, if not a marker)."""
    top = conn.execute(_TOP, (bucket, key)).fetchone()
    if top is None:
        return
    seq, marker = top
    if marker:
        conn.execute(_MAKE_LATEST, (seq,))
        return
    conn.execute(_PROMOTE, (seq,))
    conn.execute(_DROP_SEQ, (seq,))


def get_version(
    conn: sqlite3.Connection, bucket: str, key: str, version_id: str | None
) -> ObjectRecord | None:
    row = conn.execute(_GET_CURRENT_VERSION, (bucket, key, version_id)).fetchone()
    if row is not None:
        return record_of(row)
    old = conn.execute(_GET_OLD_VERSION, (bucket, key, version_id)).fetchone()
    return None if old is None else record_of(old[1:])


def latest_version(conn: sqlite3.Connection, bucket: str, key: str) -> ObjectRecord | None:
    row = conn.execute(_GET_CURRENT, (bucket, key)).fetchone()
    if row is not None:
        return record_of(row)
    top = conn.execute(_GET_TOP, (bucket, key)).fetchone()
    return None if top is None else record_of(top[1:])


def patch_attrs(
    conn: sqlite3.Connection,
    bucket: str,
    key: str,
    version_id: str | None,
    changes: Mapping[str, Any],
    expect: Mapping[str, Any] | None,
) -> ObjectRecord:
    """Change members of one version's ``attrs`` (inside a write job)."""
    seq: int | None = None
    row = conn.execute(_GET_CURRENT_VERSION, (bucket, key, version_id)).fetchone()
    if row is None:
        old = conn.execute(_GET_OLD_VERSION, (bucket, key, version_id)).fetchone()
        if old is None or old[11]:
            raise ObjectMissing()
        seq, row = old[0], old[1:]
    record = record_of(row)
    _check_expected(record.attrs, expect or {})
    for member, value in changes.items():
        if value is None:
            record.attrs.pop(member, None)
        else:
            record.attrs[member] = value
    text = dump_doc(record.attrs)
    if seq is None:
        conn.execute(_SET_CURRENT_ATTRS, (text, bucket, key))
    else:
        conn.execute(_SET_OLD_ATTRS, (text, seq))
    return record


def _check_expected(attrs: Mapping[str, Any], expect: Mapping[str, Any]) -> None:
    for member, value in expect.items():
        if attrs.get(member) != value:
            raise ConditionFailed(member)


def any_version(conn: sqlite3.Connection, bucket: str) -> bool:
    return conn.execute(_ANY_VERSION, (bucket,)).fetchone() is not None


def list_versions(
    conn: sqlite3.Connection, bucket: str, prefix: str, key_marker: str, version_marker: str, limit: int
) -> list[ListedVersion]:
    """One page of versions in S3's order (inside a read job); see the contract."""
    if limit <= 0:
        return []
    within: list[tuple[Any, ...]] = []
    if version_marker:
        start = _marker_position(conn, bucket, key_marker, version_marker)
        if key_marker.startswith(prefix):
            within = conn.execute(_LIST_OLD_OF_KEY, (bucket, key_marker, start, limit)).fetchall()
    bounds = key_range(prefix, key_marker)
    params = {"bucket": bucket, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}
    variant = (bounds.exclusive, bounds.upper is not None)
    current = conn.execute(_LIST_CURRENT[variant], params).fetchall()
    older = within + conn.execute(_LIST_OLD[variant], params).fetchall()
    tagged = [(row[0], -_CURRENT_POSITION, row) for row in current]
    tagged += [(row[0], -row[11], row[:11]) for row in older]
    tagged.sort(key=lambda item: (item[0], item[1]))
    return [
        ListedVersion(row[0], row[1], bool(row[2]), bool(row[3]), *row[4:]) for _k, _p, row in tagged[:limit]
    ]


def _marker_position(conn: sqlite3.Connection, bucket: str, key: str, version_marker: str) -> int:
    """The ``seq`` versions listed after ``version_marker`` of ``key`` are below."""
    version_id = None if version_marker == NULL_VERSION else version_marker
    if conn.execute(_GET_CURRENT_VERSION, (bucket, key, version_id)).fetchone() is not None:
        return _CURRENT_POSITION
    old = conn.execute(_GET_OLD_VERSION, (bucket, key, version_id)).fetchone()
    if old is None:
        raise VersionMissing(version_marker)
    return int(old[0])
