"""The SQLite engine: one writer thread with group commit, a pool of reader threads.

SQLite allows one writer at a time, and a durable commit costs an fsync (``synchronous=FULL`` in
WAL mode syncs the log on every commit), so writes go through a single **writer thread** fed by a
queue. The thread blocks on the queue (no polling), then drains everything queued (up to
:data:`MAX_GROUP`) and runs the jobs in **one transaction**, each inside its own ``SAVEPOINT``: a
job that raises is rolled back alone and gets its exception, the others commit together with one
fsync (**group commit**). When the commit returns, the futures of the whole group are resolved
with a single ``call_soon_threadsafe`` per event loop, so a group of 200 writes wakes the loop
once, not 200 times.

Reads run on a small pool of threads, each with its own read-only connection; in WAL mode they
see the last committed state and never wait for the writer. Nothing here touches the event loop
thread except to resolve futures.

Repository code passes plain functions ``fn(conn) -> T`` to :meth:`Database.write` and
:meth:`Database.read`; SQL strings are constants so that sqlite3's statement cache reuses the
prepared statements.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from kumoi.storage.faults import NO_FAULTS, FaultPlan
from kumoi.storage.meta.sqlite.schema import Migration, migrate

T = TypeVar("T")

#: Most jobs committed together in one transaction.
MAX_GROUP = 256
#: Reader threads (each with its own connection).
READERS = 2
#: Prepared statements kept per connection.
STATEMENT_CACHE = 256
#: How long a connection waits for a lock held by another process before failing.
BUSY_TIMEOUT_S = 30.0

_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
#: Put on the job queue by ``close``: the writer finishes what came before it, then exits.
_STOP = None


class StoreClosed(RuntimeError):
    """The database is not open (not started yet, or closed)."""


def _resolve(results: list[tuple[asyncio.Future[Any], BaseException | None, Any]]) -> None:
    """Runs on the event loop: hand every job of a group its outcome."""
    for fut, exc, value in results:
        if fut.cancelled():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)


class Database:
    """A SQLite database file with a group-committing writer thread and reader threads."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        readers: int = READERS,
        faults: FaultPlan = NO_FAULTS,
    ) -> None:
        self.path = path
        self._migrations = migrations
        self._faults = faults
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader_count = readers
        self._readers: ThreadPoolExecutor | None = None
        self._reader_conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._conns_lock = threading.Lock()
        self._open = False
        #: Transactions committed so far (a group of jobs counts once).
        self.commits = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the file, migrate the schema, start the writer thread and the reader pool."""
        if self._open:
            return
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._writer = threading.Thread(
            target=self._write_loop,
            args=(loop, ready),
            name=f"kumoi-sqlite-writer:{self.path.name}",
            daemon=True,
        )
        self._writer.start()
        await ready
        self._readers = ThreadPoolExecutor(self._reader_count, thread_name_prefix="kumoi-sqlite-reader")
        self._open = True

    async def close(self) -> None:
        """Let queued writes finish, stop the threads, close every connection."""
        if not self._open:
            return
        self._open = False
        self._jobs.put(_STOP)
        writer, readers = self._writer, self._readers
        loop = asyncio.get_running_loop()
        if writer is not None:
            await loop.run_in_executor(None, writer.join)
        if readers is not None:
            await loop.run_in_executor(None, readers.shutdown)
        with self._conns_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()

    # -- the API for repositories ----------------------------------------------------------

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``fn(conn)`` in the writer thread inside a savepoint of the next group commit.

        The returned future resolves after the group's commit is durable, with ``fn``'s result
        or the exception it raised (its changes then rolled back).
        """
        if not self._open:
            raise StoreClosed(str(self.path))
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, fut, loop))
        return fut

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread against the last committed state."""
        readers = self._readers
        if not self._open or readers is None:
            raise StoreClosed(str(self.path))
        return await asyncio.get_running_loop().run_in_executor(readers, self._run_read, fn)

    # -- threads -----------------------------------------------------------------------------

    def _connect(self, *, readonly: bool) -> sqlite3.Connection:
        if readonly:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=STATEMENT_CACHE,
                timeout=BUSY_TIMEOUT_S,
            )
        else:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=STATEMENT_CACHE,
                timeout=BUSY_TIMEOUT_S,
            )
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(readonly=True)
            self._local.conn = conn
            with self._conns_lock:
                self._reader_conns.append(conn)
        return fn(conn)

    def _write_loop(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        try:
            conn = self._connect(readonly=False)
            migrate(conn, self._migrations)
        except BaseException as exc:  # reported to start(), which re-raises it
            loop.call_soon_threadsafe(_fail_start, ready, exc)
            return
        loop.call_soon_threadsafe(_finish_start, ready)
        try:
            self._serve(conn)
        finally:
            conn.close()

    def _serve(self, conn: sqlite3.Connection) -> None:
        jobs = self._jobs
        stopping = False
        while not stopping:
            first = jobs.get()
            if first is _STOP:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
            self._commit_group(conn, group)

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Job]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut, _loop in group:
                conn.execute("SAVEPOINT job")
                try:
                    value = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((fut, exc, None))
                else:
                    conn.execute("RELEASE job")
                    if isinstance(value, sqlite3.Cursor):
                        # A cursor must die on this thread: finalised on the event loop, it resets
                        # its statement while this thread may be running the same cached statement
                        # ("bad parameter or other API misuse").
                        value.close()
                        value = None
                    outcomes.append((fut, None, value))
            self._faults.check("commit")
            conn.execute("COMMIT")
            self.commits += 1
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(fut, exc, None) for _fn, fut, _loop in group]
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], BaseException | None, Any]]]
        by_loop = {}
        for (_fn, _fut, loop), outcome in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, results in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, results)


def _finish_start(ready: asyncio.Future[None]) -> None:
    if not ready.cancelled():
        ready.set_result(None)


def _fail_start(ready: asyncio.Future[None], exc: BaseException) -> None:
    if not ready.cancelled():
        ready.set_exception(exc)
