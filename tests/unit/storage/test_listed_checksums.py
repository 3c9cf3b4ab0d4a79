"""The ``listed_checksums`` column: what the schema's migration fills existing rows with is what
the store writes for new ones."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kumoi.storage.meta.sqlite.codec import dump_doc
from kumoi.storage.meta.sqlite.s3 import listed_checksums
from kumoi.storage.meta.sqlite.schema import MIGRATIONS, migrate

#: The step that adds the column (found by what it does, not by its number).
STEP = next(i for i, step in enumerate(MIGRATIONS) if any("listed_checksums" in s for s in step))
ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]

attributes = st.fixed_dictionaries(
    {},
    optional={
        "Checksums": st.lists(st.sampled_from(ALGORITHMS), unique=True).map(
            lambda names: {name: "AAAA" for name in names}
        ),
        "ChecksumType": st.sampled_from(["FULL_OBJECT", "COMPOSITE"]),
        "StorageClass": st.just("GLACIER"),
        "Owner": st.just("111122223333"),
    },
)


def _before_step() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, MIGRATIONS[:STEP])
    return conn


@given(st.lists(attributes, min_size=1, max_size=5))
def test_the_backfill_writes_what_new_rows_get(documents: list[dict[str, Any]]) -> None:
    conn = _before_step()
    for index, attrs in enumerate(documents):
        conn.execute(
            "INSERT INTO objects (bucket, key, size, etag, last_modified, attrs) VALUES (?, ?, 0, '', 0, ?)",
            ("b", f"k{index}", dump_doc(attrs)),
        )
        conn.execute(
            "INSERT INTO object_versions (bucket, key, delete_marker, size, etag, last_modified, attrs) "
            "VALUES (?, ?, 0, 0, '', 0, ?)",
            ("b", f"k{index}", dump_doc(attrs)),
        )
    migrate(conn)
    expected = [listed_checksums(attrs) for attrs in documents]
    for table in ("objects", "object_versions"):
        rows = conn.execute(f"SELECT listed_checksums FROM {table} ORDER BY key").fetchall()
        assert [row[0] for row in rows] == expected


def test_the_listed_text() -> None:
    assert listed_checksums({}) is None
    assert listed_checksums({"Checksums": {}}) is None
    assert listed_checksums({"Checksums": {"crc32": "x", "sha256": "y"}}) == "CRC32,SHA256:FULL_OBJECT"
    composite = {"Checksums": {"crc32c": "x"}, "ChecksumType": "COMPOSITE"}
    assert listed_checksums(composite) == "CRC32C:COMPOSITE"
