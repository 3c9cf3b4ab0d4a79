"""A version listing page costs the same whatever the number of versions (SQLite).

The work of a listing is counted in SQLite virtual machine steps (a progress handler called every
step), which does not depend on the machine's load: a page over 10x more versions must cost about
the same, for the first page, a page in the middle, a page resumed inside one key's versions, and a
page of a prefix.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.meta.sqlite.s3_versions import list_versions

PAGE = 100
VERSIONS_PER_KEY = 5


def fill(conn: sqlite3.Connection, keys: int) -> None:
    """``keys`` keys (``k/000000``...), each with one current and four older versions, every fifth
    key's latest a delete marker."""
    current = []
    older = []
    for n in range(keys):
        key = f"k/{n:06d}"
        hidden = n % 5 == 0
        for v in range(VERSIONS_PER_KEY - (0 if hidden else 1)):
            older.append(("vb", key, f"v{v}", 0, float(v + 1), 3, '"e"', float(v), "{}"))
        if hidden:
            older.append(("vb", key, "dm", 1, None, 0, "", 9.0, "{}"))
        else:
            current.append(("vb", key, 3, '"e"', 9.0, "{}", "v9"))
    conn.executemany(
        "INSERT INTO object_versions (bucket, key, version_id, delete_marker, superseded, size, etag, "
        "last_modified, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        older,
    )
    conn.executemany(
        "INSERT INTO objects (bucket, key, size, etag, last_modified, attrs, version_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        current,
    )


def steps_of(store: SqliteMetadataStore, prefix: str, key_marker: str, version_marker: str) -> int:
    """VM steps one page of :data:`PAGE` versions costs."""

    def job(conn: sqlite3.Connection) -> int:
        count = 0

        def tick() -> int:
            nonlocal count
            count += 1
            return 0

        conn.set_progress_handler(tick, 1)
        try:
            page = list_versions(conn, "vb", prefix, key_marker, version_marker, PAGE)
        finally:
            conn.set_progress_handler(None, 1)
        assert len(page) == PAGE
        return count

    return asyncio.run(_read(store, job))


async def _read(store: SqliteMetadataStore, job: object) -> int:
    await store.start()
    try:
        return int(await store.db.read(job))  # type: ignore[arg-type]
    finally:
        await store.close()


def build(path: Path, keys: int) -> SqliteMetadataStore:
    async def main() -> None:
        store = SqliteMetadataStore(path, clock=Clock())
        await store.start()
        await store.s3.create_bucket(BucketRecord("vb", "111122223333", "us-east-1", 1.0))
        await store.db.write(lambda conn: fill(conn, keys))
        await store.close()

    asyncio.run(main())
    return SqliteMetadataStore(path, clock=Clock())


def test_a_page_costs_the_same_at_ten_times_the_versions(tmp_path: Path) -> None:
    small = build(tmp_path / "small.db", 400)
    large = build(tmp_path / "large.db", 4000)
    positions = [
        ("", "", ""),  # the first page
        ("", "k/000199", ""),  # after a key
        ("", "k/000200", "v2"),  # inside a key's versions (a hidden one)
        ("", "k/000201", "v9"),  # after a current version
        ("k/0001", "", ""),  # a prefix
    ]
    for prefix, key_marker, version_marker in positions:
        few = steps_of(small, prefix, key_marker, version_marker)
        many = steps_of(large, prefix, key_marker, version_marker)
        assert many < few * 1.3, (prefix, key_marker, version_marker, few, many)


def test_unversioned_objects_never_touch_the_versions_table(tmp_path: Path) -> None:
    """Writes, reads, listings and deletes in a bucket without versioning run exactly the
    statements they ran before versions existed: none of them reads ``object_versions``."""

    async def main() -> list[str]:
        store = SqliteMetadataStore(tmp_path / "meta.db", clock=Clock(), readers=1)
        await store.start()
        statements: list[str] = []

        def trace(conn: sqlite3.Connection) -> None:
            conn.set_trace_callback(statements.append)

        try:
            await store.db.write(trace)
            await store.db.read(trace)
            s3 = store.s3
            await s3.create_bucket(BucketRecord("plain", "111122223333", "us-east-1", 1.0))
            record = ObjectRecord("plain", "k", 3, '"e"', 1.0, inline=b"abc")
            await s3.put_object(record)
            await s3.put_object(record)
            await s3.get_bucket_and_object("plain", "k")
            await s3.get_object("plain", "k")
            await s3.list_objects("plain")
            await s3.update_object_attrs("plain", "k", '"e"', {"Tags": {"a": "b"}})
            await s3.delete_object("plain", "k")
            await s3.delete_objects("plain", ["k"])
            return statements
        finally:
            await store.close()

    statements = asyncio.run(main())
    assert any("INSERT INTO objects" in text for text in statements)
    assert not [text for text in statements if "object_versions" in text]
