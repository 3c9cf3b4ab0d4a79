"""The step that rebuilds ``objects`` and ``object_versions`` with the listed columns first keeps
every row and value, and leaves the bytes last."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest

from kumoi.storage.meta.sqlite.schema import MIGRATIONS, migrate

#: The rebuilding step (found by what it does, not by its number).
STEP = next(i for i, step in enumerate(MIGRATIONS) if any("objects_rebuilt" in s for s in step))

OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified, blob_id, attrs, manifest, version_id, listed_checksums, inline"
)
OBJECTS = [
    ("b", "k1", 3, '"e1"', 1.5, None, '{"StorageClass":"GLACIER"}', None, None, None, b"x" * 5000),
    ("b", "k2", 9, '"e2"', 2.5, "blob-2", "{}", '[{"blob_id":"p"}]', "v2", "CRC32:FULL_OBJECT", None),
]
VERSION_COLUMNS = (
    "seq, bucket, key, version_id, delete_marker, superseded, size, etag, last_modified, blob_id, attrs, "
    "manifest, inline, listed_checksums"
)
VERSIONS = [
    (7, "b", "k1", "v0", 0, 1.0, 3, '"e0"', 0.5, None, "{}", None, b"y" * 9000, "SHA256:COMPOSITE"),
    (9, "b", "k1", "v1", 1, 1.2, 0, "", 1.1, None, "{}", None, None, None),
]


def _insert(conn: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _rows(conn: sqlite3.Connection, table: str, columns: str) -> list[tuple[Any, ...]]:
    return conn.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall()


def test_every_row_and_value_survives_and_the_bytes_come_last() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, MIGRATIONS[:STEP])
    _insert(conn, "objects", OBJECT_COLUMNS, OBJECTS)
    _insert(conn, "object_versions", VERSION_COLUMNS, VERSIONS)
    assert migrate(conn) == len(MIGRATIONS)
    assert _rows(conn, "objects", OBJECT_COLUMNS) == OBJECTS
    assert _rows(conn, "object_versions", VERSION_COLUMNS) == VERSIONS
    for table in ("objects", "object_versions"):
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        assert names[-2:] == ["manifest", "inline"]
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(object_versions)")}
    assert {"object_versions_order", "object_versions_by_id"} <= indexes
    # The primary key still orders and bounds listings, and sequences still grow.
    plan = str(
        conn.execute("EXPLAIN QUERY PLAN SELECT key FROM objects WHERE bucket = 'b' ORDER BY key").fetchall()
    )
    assert "sqlite_autoindex_objects" in plan and "TEMP B-TREE" not in plan
    _insert(
        conn,
        "object_versions",
        "bucket, key, delete_marker, size, etag, last_modified, attrs",
        [("b", "k3", 0, 1, '"e3"', 3.0, "{}")],
    )
    assert conn.execute("SELECT max(seq) FROM object_versions").fetchone()[0] == 10


def test_an_upgrade_is_logged_and_a_new_file_is_not(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kumoi.storage")
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    migrate(fresh)
    assert caplog.messages == []
    older = sqlite3.connect(":memory:", isolation_level=None)
    migrate(older, MIGRATIONS[:STEP])
    migrate(older)
    versions = f"from version {STEP} to {len(MIGRATIONS)}"
    assert caplog.messages[0] == f"upgrading the metadata schema {versions}"
    assert caplog.messages[1].startswith(f"metadata schema upgraded {versions} in ")
