"""Database.read_cached: results served from memory only while no commit has changed the store."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumoi.storage.faults import FaultPlan
from kumoi.storage.meta.sqlite import engine
from kumoi.storage.meta.sqlite.engine import Database, StoreClosed

STEPS = (("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)",),)


def _run(path: Path, body: Callable[[Database], Awaitable[None]], faults: FaultPlan | None = None) -> None:
    async def main() -> None:
        db = Database(path, STEPS, faults=faults or FaultPlan())
        await db.start()
        try:
            await body(db)
        finally:
            await db.close()

    asyncio.run(main())


class Counted:
    """A read job of one key's row that counts how often it really ran on a reader."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.runs = 0

    def __call__(self, conn: sqlite3.Connection) -> tuple[Any, ...] | None:
        self.runs += 1
        row: tuple[Any, ...] | None = conn.execute("SELECT v FROM t WHERE k = ?", (self.key,)).fetchone()
        return row


def _size(row: tuple[Any, ...] | None) -> int:
    return 0 if row is None else len(row[0])


def _put(key: str, value: str) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)", (key, value))

    return job


def _delete(key: str) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM t WHERE k = ?", (key,))

    return job


def test_unchanged_store_is_answered_from_memory(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        for _ in range(5):
            assert await db.read_cached("a", job, _size) == ("1",)
        assert job.runs == 1

    _run(tmp_path / "m.db", body)


def test_a_commit_that_changes_a_row_is_seen_by_the_next_read(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        job = Counted("a")
        assert await db.read_cached("a", job, _size) is None  # absence is cached too
        await db.write(_put("a", "1"))
        assert await db.read_cached("a", job, _size) == ("1",)
        await db.write(_put("a", "2"))
        assert await db.read_cached("a", job, _size) == ("2",)
        await db.write(lambda conn: conn.execute("DELETE FROM t WHERE k = 'a'"))
        assert await db.read_cached("a", job, _size) is None
        assert job.runs == 4

    _run(tmp_path / "m.db", body)


def test_a_change_to_another_row_invalidates_as_well(tmp_path: Path) -> None:
    """Generations are store-wide: conservative, never stale."""

    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        await db.read_cached("a", job, _size)
        await db.write(_put("b", "1"))
        assert await db.read_cached("a", job, _size) == ("1",)
        assert job.runs == 2

    _run(tmp_path / "m.db", body)


def test_writes_that_change_nothing_keep_the_cache(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        await db.read_cached("a", job, _size)
        await db.write(lambda conn: conn.execute("UPDATE t SET v = 'x' WHERE k = 'missing'"))
        await db.write(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone())
        assert await db.read_cached("a", job, _size) == ("1",)
        assert job.runs == 1

    _run(tmp_path / "m.db", body)


def test_a_failed_commit_leaves_no_stale_entry(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        await db.read_cached("a", job, _size)
        with pytest.raises(Exception, match="commit"):
            await db.write(_put("a", "2"))
        assert await db.read_cached("a", job, _size) == ("1",)
        await db.write(_put("a", "3"))
        assert await db.read_cached("a", job, _size) == ("3",)

    _run(tmp_path / "m.db", body, FaultPlan({"commit": 2}))


def test_a_read_racing_a_commit_is_not_kept(tmp_path: Path) -> None:
    """A read dispatched before a commit may return the old row; it must not be served later."""

    async def body(db: Database) -> None:
        await db.write(_put("a", "old"))
        job = Counted("a")
        racing = asyncio.ensure_future(db.read_cached("a", job, _size))
        await db.write(_put("a", "new"))
        assert (await racing)[0] in ("old", "new")  # type: ignore[index]
        assert await db.read_cached("a", job, _size) == ("new",)

    _run(tmp_path / "m.db", body)


def test_reads_handed_out_during_a_commit_are_not_kept(tmp_path: Path) -> None:
    """The generation is odd while a commit's changes become visible: nothing read then is kept."""

    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        db._generation += 1  # what the writer does just before committing changed rows
        await db.read_cached("a", job, _size)
        await db.read_cached("a", job, _size)
        assert job.runs == 2
        db._generation += 1  # the commit is done
        await db.read_cached("a", job, _size)
        await db.read_cached("a", job, _size)
        assert job.runs == 3

    _run(tmp_path / "m.db", body)


def test_generation_is_even_between_commits(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        for i in range(5):
            await db.write(_put("a", str(i)))
            assert db._generation == 2 * (i + 1)
        await db.write(lambda conn: conn.execute("UPDATE t SET v = 'x' WHERE k = 'missing'"))
        assert db._generation == 10

    _run(tmp_path / "m.db", body)


def test_concurrent_misses_share_one_read(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        rows = await asyncio.gather(*(db.read_cached("a", job, _size) for _ in range(50)))
        assert rows == [("1",)] * 50
        assert job.runs == 1

    _run(tmp_path / "m.db", body)


def test_a_cancelled_caller_leaves_the_shared_read_to_the_others(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        first = asyncio.ensure_future(db.read_cached("a", job, _size))
        second = asyncio.ensure_future(db.read_cached("a", job, _size))
        await asyncio.sleep(0)
        first.cancel()
        assert await second == ("1",)
        assert first.cancelled()
        assert job.runs == 1

    _run(tmp_path / "m.db", body)


def test_a_miss_after_a_commit_does_not_join_an_older_read(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "old"))
        job = Counted("a")
        older = asyncio.ensure_future(db.read_cached("a", job, _size))
        await asyncio.sleep(0)
        await db.write(_put("a", "new"))
        assert await db.read_cached("a", job, _size) == ("new",)
        assert (await older)[0] in ("old", "new")  # type: ignore[index]

    _run(tmp_path / "m.db", body)


def test_budget_bounds_what_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "READ_CACHE_BYTES", 16 * 1024)
    monkeypatch.setattr(engine, "READ_CACHE_OVERHEAD", 0)

    async def body(db: Database) -> None:
        await db.write(_put("big", "x" * 2000))
        for i in range(40):
            await db.write(_put(f"k{i}", "y" * 500))
        big = Counted("big")
        await db.read_cached("big", big, _size)
        await db.read_cached("big", big, _size)
        assert big.runs == 2, "over a sixteenth of the budget: never kept"
        jobs = [Counted(f"k{i}") for i in range(40)]
        for job in jobs:
            await db.read_cached(job.key, job, _size)
        assert db._cache_bytes <= 16 * 1024
        assert len(db._cache) == 32
        for job in reversed(jobs[8:]):
            await db.read_cached(job.key, job, _size)
        assert all(job.runs == 1 for job in jobs[8:]), "the newest entries stay"
        await db.read_cached(jobs[0].key, jobs[0], _size)
        assert jobs[0].runs == 2, "the oldest went first"

    _run(tmp_path / "m.db", body)


def test_closed_store_refuses_cached_reads(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "m.db", STEPS)
        await db.start()
        await db.write(_put("a", "1"))
        await db.read_cached("a", Counted("a"), _size)
        await db.close()
        with pytest.raises(StoreClosed):
            await db.read_cached("a", Counted("a"), _size)

    asyncio.run(main())


def test_reader_errors_reach_the_caller_and_are_not_kept(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        calls = 0

        def broken(conn: sqlite3.Connection) -> None:
            nonlocal calls
            calls += 1
            conn.execute("SELECT * FROM no_such_table")

        for _ in range(2):
            with pytest.raises(sqlite3.OperationalError):
                await db.read_cached("broken", broken, lambda _value: 0)
        assert calls == 2

    _run(tmp_path / "m.db", body)


def test_a_read_ahead_is_found_by_the_next_cached_read(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "1"))
        job = Counted("a")
        db.read_ahead("a", job, _size)
        db.read_ahead("a", job, _size)  # in flight: not started twice
        assert await db.read_cached("a", job, _size) == ("1",)
        db.read_ahead("a", job, _size)  # kept and current: nothing to read
        assert await db.read_cached("a", job, _size) == ("1",)
        assert job.runs == 1

    _run(tmp_path / "m.db", body)


def test_a_commit_after_a_read_ahead_is_seen(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        await db.write(_put("a", "old"))
        job = Counted("a")
        db.read_ahead("a", job, _size)
        await db.write(_put("a", "new"))
        assert await db.read_cached("a", job, _size) == ("new",)
        db.read_ahead("a", job, _size)
        await asyncio.sleep(0.05)  # the read ahead is done and kept
        await db.write(_delete("a"))
        assert await db.read_cached("a", job, _size) is None

    _run(tmp_path / "m.db", body)


def test_a_failed_read_ahead_leaves_the_next_read_to_fail_or_succeed_alone(tmp_path: Path) -> None:
    async def body(db: Database) -> None:
        calls = 0

        def broken(conn: sqlite3.Connection) -> None:
            nonlocal calls
            calls += 1
            conn.execute("SELECT * FROM no_such_table")

        db.read_ahead("broken", broken, lambda _value: 0)
        await asyncio.sleep(0.05)
        with pytest.raises(sqlite3.OperationalError):
            await db.read_cached("broken", broken, lambda _value: 0)
        assert calls == 2

    _run(tmp_path / "m.db", body)


def test_closed_store_refuses_reads_ahead(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(tmp_path / "m.db", STEPS)
        await db.start()
        await db.close()
        with pytest.raises(StoreClosed):
            db.read_ahead("a", Counted("a"), _size)

    asyncio.run(main())


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete", "noop", "read", "ahead"]),
        st.sampled_from("abc"),
        st.text("xyz", max_size=3),
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_cached_reads_always_agree_with_the_store(
    tmp_path_factory: pytest.TempPathFactory, ops: list[Any]
) -> None:
    """Any sequence of acknowledged writes and reads ahead: a cached read answers what a fresh
    read answers."""
    path = tmp_path_factory.mktemp("prop") / "m.db"

    async def body(db: Database) -> None:
        model: dict[str, str] = {}
        for op, key, value in ops:
            if op == "put":
                await db.write(_put(key, value))
                model[key] = value
            elif op == "delete":
                await db.write(_delete(key))
                model.pop(key, None)
            elif op == "noop":
                await db.write(lambda conn: conn.execute("UPDATE t SET v = v WHERE k = 'none'"))
            elif op == "ahead":
                db.read_ahead(value or key, Counted(value or key), _size)
                continue
            row = await db.read_cached(key, Counted(key), _size)
            assert (None if row is None else row[0]) == model.get(key)

    _run(path, body)
