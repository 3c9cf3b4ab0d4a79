"""The SQLite engine: migrations, group commit, per-job rollback, injected commit failures."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from kumoi.storage.faults import FaultPlan, InjectedFault
from kumoi.storage.meta.sqlite.engine import Database, StoreClosed
from kumoi.storage.meta.sqlite.schema import MIGRATIONS, SchemaTooNew, migrate, schema_version

STEPS = (
    ("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",),
    ("ALTER TABLE t ADD COLUMN w TEXT", "CREATE INDEX t_by_v ON t (v)"),
)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_migrates_from_zero_and_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    conn = _connect(path)
    assert schema_version(conn) == 0
    assert migrate(conn) == len(MIGRATIONS)
    assert migrate(conn) == len(MIGRATIONS)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"buckets", "objects", "queues", "messages", "blob_intents", "blob_garbage"} <= tables
    conn.close()


def test_migrates_step_by_step(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "m.db")
    assert migrate(conn, STEPS[:1]) == 1
    conn.execute("INSERT INTO t (v) VALUES ('kept')")
    assert migrate(conn, STEPS) == 2
    assert conn.execute("SELECT v, w FROM t").fetchall() == [("kept", None)]
    with pytest.raises(SchemaTooNew):
        migrate(conn, STEPS[:1])


def test_failed_migration_step_leaves_previous_version(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "m.db")
    broken = (*STEPS, ("CREATE TABLE u (x)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert schema_version(conn) == 2
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'u'").fetchone() == (0,)


def _run(path: Path, body, faults: FaultPlan | None = None) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        db = Database(path, STEPS, faults=faults or FaultPlan())
        await db.start()
        try:
            await body(db)
        finally:
            await db.close()

    asyncio.run(main())


def test_group_commit_isolates_a_failing_job(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        def insert(i: int):  # type: ignore[no-untyped-def]
            def job(conn: sqlite3.Connection) -> int:
                conn.execute("INSERT INTO t (v) VALUES (?)", (f"v{i}",))
                if i == 57:
                    raise ValueError("job 57 fails after writing")
                return i

            return job

        results = await asyncio.gather(*(db.write(insert(i)) for i in range(200)), return_exceptions=True)
        assert [i for i, r in enumerate(results) if isinstance(r, ValueError)] == [57]
        assert [r for r in results if not isinstance(r, BaseException)] == [i for i in range(200) if i != 57]
        rows = await db.read(lambda conn: [r[0] for r in conn.execute("SELECT v FROM t ORDER BY id")])
        assert rows == [f"v{i}" for i in range(200) if i != 57]
        assert db.commits < 20, "200 concurrent writes share a handful of commits"

    _run(tmp_path / "m.db", body)


def test_injected_commit_failure_fails_the_whole_group(tmp_path: Path) -> None:
    faults = FaultPlan({"commit": 2})

    async def body(db: Database) -> None:
        await db.write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('first')"))
        results = await asyncio.gather(
            *(db.write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('x')")) for _ in range(20)),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, InjectedFault)]
        assert failed, "the second commit carried at least one job and failed"
        count = await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0])
        assert count == 1 + len(results) - len(failed)
        await db.write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('after')"))

    _run(tmp_path / "m.db", body, faults)
    conn = _connect(tmp_path / "m.db")
    assert conn.execute("SELECT v FROM t WHERE v != 'x' ORDER BY id").fetchall() == [("first",), ("after",)]


def test_closed_database_refuses_work(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "m.db", STEPS)
        with pytest.raises(StoreClosed):
            db.write(lambda conn: None)
        await db.start()
        await db.close()
        with pytest.raises(StoreClosed):
            await db.read(lambda conn: None)

    asyncio.run(main())


def test_close_finishes_queued_writes(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "m.db", STEPS)
        await db.start()
        futures = [db.write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('q')")) for _ in range(50)]
        await db.close()
        await asyncio.gather(*futures)

    asyncio.run(main())
    conn = _connect(tmp_path / "m.db")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (50,)


def test_cursors_from_write_jobs_stay_on_the_writer_thread(tmp_path: Path) -> None:
    """A cursor a write job returns is closed by the writer thread: finalised on the event loop,
    it would reset a cached statement the writer may be running at that moment."""

    async def body(db: Database) -> None:
        jobs = [
            db.write(lambda conn, i=i: conn.execute("INSERT INTO t (v) VALUES (?)", (str(i),)))  # type: ignore[misc]
            for i in range(200)
        ]
        assert await asyncio.gather(*jobs) == [None] * 200
        assert await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0]) == 200

    _run(tmp_path / "c.db", body)


def _fail_midway(conn: sqlite3.Connection) -> None:
    """A job that raises while a cursor of its own is still part-way through its rows."""
    rows = conn.execute("SELECT v FROM t")
    rows.fetchone()
    raise LookupError("failed part-way through a query")


def test_a_failed_job_leaves_no_query_open(tmp_path: Path) -> None:
    """A job's exception outlives the job (the caller keeps it, or it sits in a reference cycle
    until a collection), and with it the job's frames. A cursor still open in them would hold its
    connection's read snapshot, so that reader would answer from the past, and the writer's would
    be reset later on the event loop thread."""

    async def main() -> None:
        db = Database(tmp_path / "f.db", STEPS, readers=1)
        await db.start()
        try:
            await db.write(lambda conn: conn.executemany("INSERT INTO t (v) VALUES (?)", [("a",), ("b",)]))
            kept: list[BaseException] = []
            for run in (db.read, db.write):
                with pytest.raises(LookupError) as raised:
                    await run(_fail_midway)
                kept.append(raised.value)
                await db.write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('c')"))
            count = await db.read(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0])
            assert count == 4, "the reader sees every commit made after its failed job"
        finally:
            await db.close()

    asyncio.run(main())
