"""The SQLite engine: one writer thread with group commit, a pool of reader threads.

SQLite allows one writer at a time, and a durable commit costs an fsync (``synchronous=FULL`` in
WAL mode syncs the log on every commit), so writes go through a single **writer thread** fed by a
queue. The thread blocks on the queue (no polling), then drains everything queued (up to
:data:`MAX_GROUP`) and runs the jobs in **one transaction**, each inside its own ``SAVEPOINT``: a
job that raises is rolled back alone and gets its exception, the others commit together with one
fsync (**group commit**). When the commit returns, the futures of the whole group are resolved
with a single ``call_soon_threadsafe`` per event loop, so a group of 200 writes wakes the loop
once, not 200 times.

Reads run on a small pool of **reader threads**, each with its own read-only connection; in WAL
mode they see the last committed state and never wait for the writer. A read is handed over with
as little as possible on either side, because a GET's point read is on the hottest path: the loop
puts ``(fn, future)`` on a queue that the idle readers block on, and the reader that takes it
resolves the future with one ``call_soon_threadsafe`` (no ``concurrent.futures`` future, lock or
semaphore in between: those cost more than the point read itself). Nothing here touches the
event loop thread except to resolve futures.

:meth:`Database.read_cached` keeps the results of chosen point reads in memory, exactly. A
**generation** counter works like a seqlock: the writer thread makes it odd just before a commit
that changed rows and even again once the commit is done (before the group's futures are
resolved, so before any writer hears its write is done). A result is kept only if the generation
was even when its read was handed out and has not moved by the time it comes back, and it is
served only while the generation is still that one. So no commit became visible between the read
and any use of its result: a cached answer is exactly what a fresh read would answer, and never
older than what another read has already shown. GETs of objects that nobody is writing then skip
the reader thread, and a store that is being written to pays one dictionary lookup.
:meth:`Database.read_ahead` starts such a read without waiting for it (a listing reads the page a
client will ask for next while the client reads the one before), and is kept by the same rules.

Repository code passes plain functions ``fn(conn) -> T`` to :meth:`Database.write` and
:meth:`Database.read`; SQL strings are constants so that sqlite3's statement cache reuses the
prepared statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import traceback
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

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
#: Bytes of results :meth:`Database.read_cached` keeps (as their callers count them). A sixteenth
#: of it holds a listing page of 1,000 of the longest keys (1,024 bytes: about 1.4 MB).
READ_CACHE_BYTES = 32 << 20
#: What one cached result is charged on top of its size (key, tuples, bookkeeping).
READ_CACHE_OVERHEAD = 256

_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
_Read = tuple[Callable[[sqlite3.Connection], Any], "_Outcome", asyncio.AbstractEventLoop]
#: Put on a job queue by ``close``: the thread finishes what came before it, then exits.
_STOP = None


class StoreClosed(RuntimeError):
    """The database is not open (not started yet, or closed)."""


class _Outcome(Protocol):
    """Where a read's outcome goes: an ``asyncio.Future``, or a :class:`_SharedRead`."""

    def cancelled(self) -> bool: ...

    def set_result(self, value: Any, /) -> None: ...

    def set_exception(self, exc: BaseException, /) -> None: ...


def _resolve_one(target: _Outcome, exc: BaseException | None, value: Any) -> None:
    """Runs on the event loop: hand one read its outcome."""
    if target.cancelled():
        return
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(value)


class _SharedRead:
    """A read of a cached key in flight, and every caller waiting for it (see ``read_cached``)."""

    __slots__ = ("db", "generation", "key", "size", "waiters")

    def __init__(self, db: Database, key: Hashable, generation: int, size: Callable[[Any], int]) -> None:
        self.db = db
        self.key = key
        self.generation = generation
        self.size = size
        self.waiters: list[asyncio.Future[Any]] = []

    def cancelled(self) -> bool:
        return False

    def set_result(self, value: Any, /) -> None:
        self.db._shared_done(self, None, value)

    def set_exception(self, exc: BaseException, /) -> None:
        self.db._shared_done(self, exc, None)


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
        self._reads: queue.SimpleQueue[_Read | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader_count = readers
        self._readers: list[threading.Thread] = []
        self._open = False
        #: Transactions committed so far (a group of jobs counts once).
        self.commits = 0
        #: Odd while a commit that changed rows is under way, bumped around it (see the module doc).
        self._generation = 0
        self._cache: dict[Hashable, tuple[int, Any, int]] = {}
        self._cache_bytes = 0
        self._inflight: dict[Hashable, _SharedRead] = {}

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
        self._readers = [
            threading.Thread(target=self._read_loop, name=f"kumoi-sqlite-reader_{index}", daemon=True)
            for index in range(self._reader_count)
        ]
        for reader in self._readers:
            reader.start()
        self._open = True

    async def close(self) -> None:
        """Let queued writes finish, stop the threads, close every connection."""
        if not self._open:
            return
        self._open = False
        self._jobs.put(_STOP)
        for _reader in self._readers:
            self._reads.put(_STOP)
        writer, readers = self._writer, self._readers
        self._readers = []
        self._cache.clear()
        self._cache_bytes = 0
        self._inflight.clear()
        loop = asyncio.get_running_loop()
        if writer is not None:
            await loop.run_in_executor(None, writer.join)
        for reader in readers:
            await loop.run_in_executor(None, reader.join)

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

    async def read_cached(
        self, key: Hashable, fn: Callable[[sqlite3.Connection], T], size: Callable[[T], int]
    ) -> T:
        """:meth:`read`, answered from memory while no commit has changed the store since.

        ``fn``'s result must be immutable (rows, not records a caller may change) and depend
        only on the store's state and ``key``. ``size(result)`` is what keeping it costs in
        bytes; results over a sixteenth of the budget are not kept.

        Callers that miss while a read of the same key is in flight under the current
        generation wait for that read instead of starting their own: after a commit, a burst
        of requests for one bucket costs one read, not one each.
        """
        if not self._open:
            raise StoreClosed(str(self.path))
        entry = self._cache.get(key)
        if entry is not None and entry[0] == self._generation:
            value: T = entry[1]
            return value
        shared = self._shared_read(key, fn, size)
        # Each caller waits on a future of its own: one that is cancelled leaves the others be.
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        shared.waiters.append(waiter)
        return await waiter

    def read_ahead(
        self, key: Hashable, fn: Callable[[sqlite3.Connection], Any], size: Callable[[Any], int]
    ) -> None:
        """Start the read that :meth:`read_cached` of ``key`` would run, and return at once.

        Its result is kept (or not) by the same rules; a later ``read_cached`` of ``key`` finds
        it, or waits for it while it is still in flight. Nothing happens if a current result is
        already kept or being read.
        """
        if not self._open:
            raise StoreClosed(str(self.path))
        entry = self._cache.get(key)
        if entry is None or entry[0] != self._generation:
            self._shared_read(key, fn, size)

    def _shared_read(
        self, key: Hashable, fn: Callable[[sqlite3.Connection], Any], size: Callable[[Any], int]
    ) -> _SharedRead:
        """The read of ``key`` in flight under the current generation, started if there is none."""
        generation = self._generation
        shared = self._inflight.get(key)
        if shared is None or shared.generation != generation:
            shared = self._inflight[key] = _SharedRead(self, key, generation, size)
            self._reads.put((fn, shared, asyncio.get_running_loop()))
        return shared

    def _shared_done(self, shared: _SharedRead, exc: BaseException | None, value: Any) -> None:
        """On the loop: a shared read finished; keep its result if still current, wake its callers."""
        if self._inflight.get(shared.key) is shared:
            del self._inflight[shared.key]
        generation = shared.generation
        if exc is None and generation == self._generation and not generation % 2 and self._open:
            self._keep(shared.key, generation, value, shared.size(value) + READ_CACHE_OVERHEAD)
        for waiter in shared.waiters:
            if not waiter.done():
                if exc is not None:
                    waiter.set_exception(exc)
                else:
                    waiter.set_result(value)

    def _keep(self, key: Hashable, generation: int, value: Any, cost: int) -> None:
        if cost > READ_CACHE_BYTES // 16:
            return
        cache = self._cache
        old = cache.pop(key, None)
        if old is not None:
            self._cache_bytes -= old[2]
        elif self._cache_bytes + cost > READ_CACHE_BYTES:
            # Oldest first; entries of past generations are as good as gone anyway.
            while cache and self._cache_bytes + cost > READ_CACHE_BYTES:
                self._cache_bytes -= cache.pop(next(iter(cache)))[2]
        cache[key] = (generation, value, cost)
        self._cache_bytes += cost

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``fn(conn)`` on a reader thread against the last committed state.

        The returned future resolves with ``fn``'s result or the exception it raised.
        """
        if not self._open:
            raise StoreClosed(str(self.path))
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._reads.put((fn, fut, loop))
        return fut

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

    def _read_loop(self) -> None:
        """A reader thread: run reads in arrival order on this thread's own connection."""
        reads = self._reads
        conn: sqlite3.Connection | None = None
        try:
            while True:
                job = reads.get()
                if job is _STOP:
                    return
                fn, fut, loop = job
                exc: BaseException | None = None
                value: Any = None
                try:
                    if conn is None:
                        conn = self._connect(readonly=True)
                    value = fn(conn)
                except BaseException as error:  # handed to the awaiting coroutine, as an executor does
                    _drop_locals(error)
                    exc = error
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                    loop.call_soon_threadsafe(_resolve_one, fut, exc, value)
                # Drop the result now, not when the next read arrives (a listing page is large).
                del job, fn, fut, value, exc
        finally:
            if conn is not None:
                conn.close()

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
        changes = conn.total_changes
        committing = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut, _loop in group:
                conn.execute("SAVEPOINT job")
                try:
                    value = fn(conn)
                except Exception as exc:
                    _drop_locals(exc)
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
            if conn.total_changes != changes:
                committing = True
                self._generation += 1  # odd: rows are about to change (see the module doc)
            conn.execute("COMMIT")
            self.commits += 1
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(fut, exc, None) for _fn, fut, _loop in group]
        if committing:
            self._generation += 1  # even again, before any future of the group is resolved
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], BaseException | None, Any]]]
        by_loop = {}
        for (_fn, _fut, loop), outcome in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, results in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, results)


def _drop_locals(error: BaseException) -> None:
    """Clear the variables of the finished frames ``error`` carries, on this thread, now.

    The exception outlives the job (its caller keeps it, or a reference cycle does until a
    collection), and with it the job's frames. A cursor left part-way through its rows in one
    of them keeps its statement running, and so its connection's read snapshot: a reader would
    answer from that moment on until the cursor dies, and the cursor would then be reset on the
    event loop thread, while this thread may be running the same cached statement.
    """
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        pending += (exc.__cause__, exc.__context__)


def _finish_start(ready: asyncio.Future[None]) -> None:
    if not ready.cancelled():
        ready.set_result(None)


def _fail_start(ready: asyncio.Future[None], exc: BaseException) -> None:
    if not ready.cancelled():
        ready.set_exception(exc)
