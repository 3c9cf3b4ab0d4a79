"""SQS queues and messages in SQLite.

A receive is one write job: it finds the claimable messages and claims them (new visibility,
receive count, receipt token) in the same transaction, so two concurrent receives never get the
same message.

Standard queues take the visible messages in ``(visible_at, sequence)`` order, a range scan of
the ``messages_visible`` index that stops after ``limit`` rows.

FIFO queues claim by message group: a group's messages are claimable, in sequence order, up to
its first message that is not visible (in flight or delayed). The job walks the visible index
for groups it has not seen yet (the index carries ``group_id``, so this reads no table rows) and,
for each, reads the head of the group from the ``messages_group`` index (``queue_id, group_id,
sequence, visible_at``: covering; partial, only messages that have a group, so standard-queue
sends never write it), taking the visible run from the start. Each group costs one
short range scan; messages of groups already decided are skipped without further queries. The
worst case is a blocked group with a long visible backlog: its messages are stepped over, one
index entry each, on every receive until its head is deleted or becomes visible.

The receive job also enforces retention for its queue (a probe of the ``messages_sent`` index
deletes what is past the retention period, so an expired message is never delivered even
between sweeps) and applies the redrive policy: a candidate already received
``maxReceiveCount`` times is moved to the dead-letter queue (its ``queue_id`` changes) instead
of being claimed, and the job looks for more candidates, a bounded number of rounds.

FIFO deduplication lives in ``sqs_dedup`` (``queue_id, dedup_key`` → the original message), so
a send checks it with one primary-key probe per message inside the same transaction.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from kumoi.core import secret_bytes
from kumoi.core.clock import Clock
from kumoi.storage.meta.contract import (
    MessageRecord,
    MoveTaskRecord,
    QueueMissing,
    QueueRecord,
    ReceiveAttempt,
    Redrive,
    VisibilityChange,
)
from kumoi.storage.meta.sqlite.codec import dump_doc, load_doc
from kumoi.storage.meta.sqlite.engine import Database
from kumoi.storage.meta.sqlite.keyrange import key_range, range_sql

#: Random bytes in a receipt token.
RECEIPT_BYTES = 24
#: Rounds of "find candidates, move the over-received ones to the dead-letter queue" per receive.
REDRIVE_ROUNDS = 4
#: Messages deleted for retention by one receive (the periodic sweep takes the rest).
RETENTION_BATCH = 500

_QUEUE_COLUMNS = "queue_id, account_id, name, created, last_modified, attributes, tags"
_MESSAGE_COLUMNS = (
    "message_id, body, sent_at, visible_at, attrs, receive_count, first_received_at, group_id, "
    "dedup_id, sequence, receipt"
)

_INSERT_QUEUE = (
    "INSERT INTO queues (account_id, name, created, last_modified, attributes, tags) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING RETURNING queue_id"
)
_GET_QUEUE = f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE account_id = ? AND name = ?"
_QUEUE_EXISTS = "SELECT 1 FROM queues WHERE queue_id = ?"
_LIST_QUEUES = range_sql(
    f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE account_id = :owner AND {{range}} ORDER BY name LIMIT :limit",
    "name",
)
_UPDATE_QUEUE = "UPDATE queues SET attributes = ?, tags = ?, last_modified = ? WHERE queue_id = ?"
_DELETE_QUEUE = "DELETE FROM queues WHERE queue_id = ?"
_PURGE = "DELETE FROM messages WHERE queue_id = ?"
_PURGE_DEDUP = "DELETE FROM sqs_dedup WHERE queue_id = ?"
_FIND_DEDUP = (
    "SELECT message_id, sequence FROM sqs_dedup WHERE queue_id = ? AND dedup_key = ? AND expires_at > ?"
)
_PUT_DEDUP = (
    "INSERT OR REPLACE INTO sqs_dedup (queue_id, dedup_key, expires_at, message_id, sequence) "
    "VALUES (?, ?, ?, ?, ?)"
)
_EXPIRE_DEDUP = "DELETE FROM sqs_dedup WHERE expires_at <= ?"
_EXPIRE_QUEUE = (
    "DELETE FROM messages WHERE sequence IN "
    "(SELECT sequence FROM messages WHERE queue_id = ? AND sent_at < ? LIMIT ?)"
)
_RETENTIONS = "SELECT queue_id, json_extract(attributes, '$.MessageRetentionPeriod') FROM queues"

_INSERT_INTO = (
    "INSERT INTO messages (queue_id, message_id, body, sent_at, visible_at, attrs, receive_count, "
    "first_received_at, group_id, dedup_id, receipt) VALUES "
)
_ROW_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_MESSAGE = f"{_INSERT_INTO}{_ROW_VALUES} RETURNING sequence"
#: Rows one multi-row INSERT writes at most.
_INSERT_ROWS = 64
_VISIBLE = (
    "SELECT sequence FROM messages WHERE queue_id = ? AND visible_at <= ? "
    "ORDER BY visible_at, sequence LIMIT ?"
)
_PEEK = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at <= ? "
    "ORDER BY visible_at, sequence LIMIT ?"
)
_NEXT_VISIBLE = "SELECT min(visible_at) FROM messages WHERE queue_id = ? AND visible_at > ?"
_RECEIVE_COUNT = "SELECT receive_count FROM messages WHERE sequence = ?"
_TO_DEAD_LETTER = (
    "UPDATE messages SET queue_id = ?, visible_at = ?, receipt = NULL, "
    "attrs = json_set(attrs, '$.DeadLetterQueueSourceArn', ?) WHERE sequence = ?"
)
_MOVE = (
    "UPDATE messages SET queue_id = ?, visible_at = ?, receipt = NULL, receive_count = 0, "
    "first_received_at = NULL WHERE sequence = ? AND queue_id = ? AND visible_at <= ?"
)
_VISIBLE_GROUPS = (
    "SELECT group_id FROM messages WHERE queue_id = ? AND visible_at <= ? ORDER BY visible_at, sequence"
)
# ``group_id = ?``, not ``IS ?``: what lets SQLite use the partial index (group_id IS NOT NULL).
_GROUP_HEAD = (
    "SELECT sequence, visible_at FROM messages WHERE queue_id = ? AND group_id = ? ORDER BY sequence LIMIT ?"
)
#: The messages without a group in a FIFO queue (a move task may bring them from a standard queue).
_UNGROUPED_HEAD = (
    "SELECT sequence, visible_at FROM messages WHERE queue_id = ? AND group_id IS NULL "
    "ORDER BY sequence LIMIT ?"
)
# Receipt handles name a message by its sequence (the primary key): no index on message ids.
_DELETE_MESSAGE = "DELETE FROM messages WHERE sequence = ? AND queue_id = ? AND receipt = ?"
#: Most messages one claim or delete statement names (a receive takes at most 10).
_STATEMENT_ROWS = 10
_CHANGE_VISIBILITY = (
    "UPDATE messages SET visible_at = ? "
    "WHERE sequence = ? AND queue_id = ? AND receipt = ? AND visible_at > ?"
)
_HELD = "SELECT 1 FROM messages WHERE sequence = ? AND queue_id = ? AND receipt = ?"
_FIND_ATTEMPT = (
    "SELECT claimed FROM sqs_receive_attempts WHERE queue_id = ? AND attempt_id = ? AND expires_at > ?"
)
_PUT_ATTEMPT = (
    "INSERT OR REPLACE INTO sqs_receive_attempts (queue_id, attempt_id, expires_at, claimed) "
    "VALUES (?, ?, ?, ?)"
)
_UPDATE_ATTEMPT = "UPDATE sqs_receive_attempts SET claimed = ? WHERE queue_id = ? AND attempt_id = ?"
_EXPIRE_ATTEMPTS = "DELETE FROM sqs_receive_attempts WHERE expires_at <= ?"
_PURGE_ATTEMPTS = "DELETE FROM sqs_receive_attempts WHERE queue_id = ?"
_MESSAGE_BY_SEQUENCE = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE sequence = ? AND queue_id = ?"
_RECLAIM = "UPDATE messages SET visible_at = ? WHERE sequence = ?"
_TASK_COLUMNS = (
    "handle, source_arn, source_queue_id, destination_arn, rate, started_ms, to_move, moved, status, failure"
)
_INSERT_TASK = f"INSERT INTO sqs_move_tasks ({_TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_FORGET_TASKS = (
    "DELETE FROM sqs_move_tasks WHERE source_arn = ? AND status NOT IN ('RUNNING', 'CANCELLING') "
    "AND task_id NOT IN "
    "(SELECT task_id FROM sqs_move_tasks WHERE source_arn = ? ORDER BY task_id DESC LIMIT ?)"
)
_FORGET_QUEUE_TASKS = "DELETE FROM sqs_move_tasks WHERE source_queue_id = ?"
_UPDATE_TASK = "UPDATE sqs_move_tasks SET status = ?, failure = ? WHERE handle = ?"
_TASK_MOVED = "UPDATE sqs_move_tasks SET moved = moved + ? WHERE handle = ?"
_LIST_TASKS = f"SELECT {_TASK_COLUMNS} FROM sqs_move_tasks WHERE source_arn = ? ORDER BY task_id DESC LIMIT ?"
_UNFINISHED_TASKS = (
    f"SELECT {_TASK_COLUMNS} FROM sqs_move_tasks WHERE status IN ('RUNNING', 'CANCELLING') ORDER BY task_id"
)
_COUNT_VISIBLE = "SELECT count(*) FROM messages WHERE queue_id = ? AND visible_at <= ?"
_COUNT_HIDDEN = (
    "SELECT count(*), coalesce(sum(receive_count = 0), 0) FROM messages WHERE queue_id = ? AND visible_at > ?"
)


def _queue(row: tuple[Any, ...]) -> QueueRecord:
    return QueueRecord(
        account_id=row[1],
        name=row[2],
        created=row[3],
        last_modified=row[4],
        attributes=load_doc(row[5]),
        tags=load_doc(row[6]),
        queue_id=row[0],
    )


#: The attributes document of messages without message attributes, by sender: most messages.
_SENDER_DOCS: dict[str, str] = {}
_SENDER_DOCS_MAX = 1024


def _attrs_doc(attrs: dict[str, Any]) -> str:
    if len(attrs) == 1:
        sender = attrs.get("SenderId")
        if type(sender) is str:
            doc = _SENDER_DOCS.get(sender)
            if doc is None:
                doc = dump_doc(attrs)
                if len(_SENDER_DOCS) < _SENDER_DOCS_MAX:
                    _SENDER_DOCS[sender] = doc
            return doc
    return dump_doc(attrs)


def _message(row: tuple[Any, ...]) -> MessageRecord:
    return MessageRecord(
        row[0], row[1], row[2], row[3], load_doc(row[4]), row[5], row[6], row[7], row[8], row[9], row[10]
    )


def _move(conn: sqlite3.Connection, queue_id: int, moves: list[tuple[int, int]], now: float) -> int:
    return sum(
        conn.execute(_MOVE, (destination, now, sequence, queue_id, now)).rowcount
        for sequence, destination in moves
    )


def _task(row: tuple[Any, ...]) -> MoveTaskRecord:
    return MoveTaskRecord(*row)


def _fifo_claimable(conn: sqlite3.Connection, queue_id: int, now: float, limit: int) -> list[int]:
    """Sequences a FIFO receive may claim: per group, the visible run at its head."""
    chosen: list[int] = []
    decided: set[str | None] = set()
    for (group_id,) in conn.execute(_VISIBLE_GROUPS, (queue_id, now)):
        if group_id in decided:
            continue
        decided.add(group_id)
        wanted = limit - len(chosen)
        head = (
            conn.execute(_GROUP_HEAD, (queue_id, group_id, wanted))
            if group_id is not None
            else conn.execute(_UNGROUPED_HEAD, (queue_id, wanted))
        )
        for sequence, visible_at in head:
            if visible_at > now:
                break
            chosen.append(sequence)
        if len(chosen) >= limit:
            break
    return chosen


def _redrive(
    conn: sqlite3.Connection,
    redrive: Redrive,
    now: float,
    sequences: list[int],
    limit: int,
    candidates: Callable[[sqlite3.Connection, int], list[int]],
) -> list[int]:
    """The candidates to claim once over-received ones went to the dead-letter queue; after a
    move, look again (a moved FIFO head unblocks its group), at most :data:`REDRIVE_ROUNDS` times."""
    for _round in range(REDRIVE_ROUNDS):
        moved = _move_over_received(conn, redrive, now, sequences)
        if not moved:
            return sequences
        sequences = candidates(conn, limit)
    return [s for s in sequences if s not in _move_over_received(conn, redrive, now, sequences)]


def _move_over_received(
    conn: sqlite3.Connection, redrive: Redrive, now: float, sequences: Iterable[int]
) -> set[int]:
    moved = set()
    for sequence in sequences:
        (count,) = conn.execute(_RECEIVE_COUNT, (sequence,)).fetchone()
        if count >= redrive.max_receive_count:
            conn.execute(_TO_DEAD_LETTER, (redrive.dead_letter_queue_id, now, redrive.source_arn, sequence))
            moved.add(sequence)
    return moved


def _claim(
    conn: sqlite3.Connection, sequences: list[int], visible_at: float, now: float
) -> list[MessageRecord]:
    """Receive the messages stored as ``sequences`` (each with a fresh receipt token), in that
    order: one statement per :data:`_STATEMENT_ROWS` messages."""
    claimed: dict[int, MessageRecord] = {}
    for start in range(0, len(sequences), _STATEMENT_ROWS):
        chunk = sequences[start : start + _STATEMENT_ROWS]
        claims = [value for pair in zip(chunk, _receipts(len(chunk)), strict=True) for value in pair]
        for row in conn.execute(_claim_sql(len(chunk)), (visible_at, now, *claims)):
            claimed[row[9]] = _message(row)
    return [claimed[sequence] for sequence in sequences]


@functools.cache
def _claim_sql(count: int) -> str:
    """Claim ``count`` messages named by (sequence, receipt token) pairs."""
    pairs = ", ".join(["(?, ?)"] * count)
    return (
        "UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, "
        "first_received_at = coalesce(first_received_at, ?), receipt = claims.column2 "
        f"FROM (VALUES {pairs}) AS claims WHERE messages.sequence = claims.column1 "
        f"RETURNING {_MESSAGE_COLUMNS}"
    )


@functools.cache
def _delete_sql(count: int) -> str:
    """Delete the messages of ``count`` (sequence, receipt token) pairs whose token is current,
    in one queue (the last parameter); returns the sequences deleted."""
    pairs = ", ".join(["(?, ?)"] * count)
    return (
        "DELETE FROM messages WHERE sequence IN (SELECT m.sequence FROM "
        f"(VALUES {pairs}) AS handles JOIN messages AS m ON m.sequence = handles.column1 "
        "AND m.receipt = handles.column2 WHERE m.queue_id = ?) RETURNING sequence"
    )


def _receipts(count: int) -> list[str]:
    """``count`` fresh receipt tokens (``secrets.token_urlsafe(RECEIPT_BYTES)`` each)."""
    return [secret_bytes.token_urlsafe(RECEIPT_BYTES) for _ in range(count)]


def _replay(
    conn: sqlite3.Connection, queue_id: int, claimed: str, now: float, visible_at: float
) -> list[MessageRecord] | None:
    """The messages an earlier receive attempt claimed (``claimed``: its ``[sequence, receipt,
    visible_at]`` triples), in flight again until ``visible_at``; None if any of them was deleted,
    received again, had its visibility changed or became visible since."""
    messages: list[MessageRecord] = []
    for sequence, receipt, claimed_until in json.loads(claimed):
        row = conn.execute(_MESSAGE_BY_SEQUENCE, (sequence, queue_id)).fetchone()
        if row is None:
            return None
        message = _message(row)
        if message.receipt != receipt or message.visible_at != claimed_until or claimed_until <= now:
            return None
        messages.append(message)
    for message in messages:
        conn.execute(_RECLAIM, (visible_at, message.sequence))
        message.visible_at = visible_at
    return messages


def _insert_all(
    queue_id: int, messages: list[MessageRecord], rows: list[tuple[Any, ...]], conn: sqlite3.Connection
) -> list[tuple[str, int]]:
    """Store messages that need no deduplication check: a few multi-row INSERTs.

    AUTOINCREMENT gives the rows of one writer consecutive sequences, in order. A statement per
    64 rows instead of one per row (``executemany``) cost the writer a fifth less CPU per
    60-message commit, and every statement step also gives up the GIL and has to get it back
    from the event loop thread.
    """
    if conn.execute(_QUEUE_EXISTS, (queue_id,)).fetchone() is None:
        raise QueueMissing(queue_id)
    start, total, last = 0, len(rows), 0
    while start < total:
        count = min(_INSERT_ROWS, 1 << ((total - start).bit_length() - 1))
        values = [value for row in rows[start : start + count] for value in row]
        last = conn.execute(_insert_sql(count), values).lastrowid or 0
        start += count
    first = last - total + 1
    return [(m.message_id, first + index) for index, m in enumerate(messages)]


@functools.cache
def _insert_sql(count: int) -> str:
    """An INSERT of ``count`` messages (a power of two up to :data:`_INSERT_ROWS`: few statements
    to cache).

    ``OR FAIL``: a statement that writes several rows and may abort half-way makes SQLite copy
    every page it touches to a statement journal first, so that it can undo just that
    statement; a job runs in a savepoint that is rolled back whole if it fails, so that copy
    (about a third of a send's page writes) buys nothing. No row can fail these constraints
    anyway (NOT NULL columns always given, the key assigned by SQLite).
    """
    return "INSERT OR FAIL" + _INSERT_INTO.removeprefix("INSERT") + ", ".join([_ROW_VALUES] * count)


def _claimed(messages: list[MessageRecord]) -> str:
    return json.dumps([[m.sequence, m.receipt, m.visible_at] for m in messages], separators=(",", ":"))


class SqliteSqsRepository:
    """:class:`~kumoi.storage.meta.contract.SqsRepository` on a :class:`Database`."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        row = (
            record.account_id,
            record.name,
            record.created,
            record.last_modified,
            dump_doc(record.attributes),
            dump_doc(record.tags),
        )
        key = (record.account_id, record.name)

        def job(conn: sqlite3.Connection) -> QueueRecord:
            inserted = conn.execute(_INSERT_QUEUE, row).fetchall()
            if inserted:
                return QueueRecord(
                    record.account_id,
                    record.name,
                    record.created,
                    dict(record.attributes),
                    dict(record.tags),
                    inserted[0][0],
                    record.last_modified,
                )
            return _queue(conn.execute(_GET_QUEUE, key).fetchone())

        return await self._db.write(job)

    async def get_queue(self, account_id: str, name: str) -> QueueRecord | None:
        def job(conn: sqlite3.Connection) -> QueueRecord | None:
            row = conn.execute(_GET_QUEUE, (account_id, name)).fetchone()
            return None if row is None else _queue(row)

        return await self._db.read(job)

    async def list_queues(
        self, account_id: str, prefix: str = "", after: str = "", limit: int = 1000
    ) -> list[QueueRecord]:
        bounds = key_range(prefix, after)
        sql = _LIST_QUEUES[(bounds.exclusive, bounds.upper is not None)]
        params = {"owner": account_id, "lower": bounds.lower, "upper": bounds.upper, "limit": limit}

        def job(conn: sqlite3.Connection) -> list[QueueRecord]:
            return [_queue(row) for row in conn.execute(sql, params)]

        return await self._db.read(job)

    async def update_queue(self, record: QueueRecord) -> None:
        params = (dump_doc(record.attributes), dump_doc(record.tags), record.last_modified, record.queue_id)
        await self._db.write(lambda conn: conn.execute(_UPDATE_QUEUE, params))

    async def delete_queue(self, queue_id: int) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            conn.execute(_PURGE, (queue_id,))
            conn.execute(_PURGE_DEDUP, (queue_id,))
            conn.execute(_PURGE_ATTEMPTS, (queue_id,))
            conn.execute(_FORGET_QUEUE_TASKS, (queue_id,))
            return conn.execute(_DELETE_QUEUE, (queue_id,)).rowcount > 0

        return await self._db.write(job)

    async def send(
        self, queue_id: int, messages: list[MessageRecord], dedup_window: float = 0.0
    ) -> list[tuple[str, int]]:
        rows = [
            (
                queue_id,
                m.message_id,
                m.body,
                m.sent_at,
                m.visible_at,
                _attrs_doc(m.attrs),
                m.receive_count,
                m.first_received_at,
                m.group_id,
                m.dedup_id,
                m.receipt,
            )
            for m in messages
        ]
        if all(m.dedup_key is None for m in messages):
            return await self._db.write(functools.partial(_insert_all, queue_id, messages, rows))

        def job(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            if conn.execute(_QUEUE_EXISTS, (queue_id,)).fetchone() is None:
                raise QueueMissing(queue_id)
            sent: list[tuple[str, int]] = []
            for message, row in zip(messages, rows, strict=True):
                key = message.dedup_key
                if key is not None:
                    original = conn.execute(_FIND_DEDUP, (queue_id, key, message.sent_at)).fetchone()
                    if original is not None:
                        sent.append((original[0], original[1]))
                        continue
                sequence = conn.execute(_INSERT_MESSAGE, row).fetchall()[0][0]
                if key is not None:
                    expires = message.sent_at + dedup_window
                    conn.execute(_PUT_DEDUP, (queue_id, key, expires, message.message_id, sequence))
                sent.append((message.message_id, sequence))
            return sent

        return await self._db.write(job)

    async def receive(
        self,
        queue_id: int,
        now: float,
        limit: int,
        visibility_timeout: float,
        fifo: bool,
        *,
        sent_after: float | None = None,
        redrive: Redrive | None = None,
        attempt: ReceiveAttempt | None = None,
    ) -> list[MessageRecord]:
        visible_at = now + visibility_timeout
        if limit <= 0:
            return []

        def candidates(conn: sqlite3.Connection, wanted: int) -> list[int]:
            if fifo:
                return _fifo_claimable(conn, queue_id, now, wanted)
            return [row[0] for row in conn.execute(_VISIBLE, (queue_id, now, wanted))]

        def job(conn: sqlite3.Connection) -> list[MessageRecord]:
            if attempt is not None:
                found = conn.execute(_FIND_ATTEMPT, (queue_id, attempt.attempt_id, now)).fetchone()
                if found is not None:
                    again = _replay(conn, queue_id, found[0], now, visible_at)
                    if again is not None:
                        conn.execute(_UPDATE_ATTEMPT, (_claimed(again), queue_id, attempt.attempt_id))
                        return again
            if sent_after is not None:
                conn.execute(_EXPIRE_QUEUE, (queue_id, sent_after, RETENTION_BATCH))
            sequences = candidates(conn, limit)
            if redrive is not None:
                sequences = _redrive(conn, redrive, now, sequences, limit, candidates)
            claimed = _claim(conn, sequences, visible_at, now)
            if attempt is not None and claimed:
                row = (queue_id, attempt.attempt_id, attempt.expires_at, _claimed(claimed))
                conn.execute(_PUT_ATTEMPT, row)
            return claimed

        return await self._db.write(job)

    async def next_visible_at(self, queue_id: int, now: float) -> float | None:
        def job(conn: sqlite3.Connection) -> float | None:
            (when,) = conn.execute(_NEXT_VISIBLE, (queue_id, now)).fetchone()
            return None if when is None else float(when)

        return await self._db.read(job)

    async def delete_message(self, queue_id: int, sequence: int, receipt: str) -> bool:
        params = (sequence, queue_id, receipt)
        return await self._db.write(lambda conn: conn.execute(_DELETE_MESSAGE, params).rowcount > 0)

    async def delete_messages(self, queue_id: int, receipts: list[tuple[int, str]]) -> list[bool]:
        def job(conn: sqlite3.Connection) -> list[bool]:
            deleted: set[int] = set()
            for start in range(0, len(receipts), _STATEMENT_ROWS):
                chunk = receipts[start : start + _STATEMENT_ROWS]
                params = [value for pair in chunk for value in pair]
                deleted.update(row[0] for row in conn.execute(_delete_sql(len(chunk)), (*params, queue_id)))
            return [sequence in deleted for sequence, _receipt in receipts]

        return await self._db.write(job)

    async def change_visibility(
        self, queue_id: int, sequence: int, receipt: str, visible_at: float
    ) -> VisibilityChange:
        (outcome,) = await self.change_visibilities(queue_id, [(sequence, receipt, visible_at)])
        return outcome

    async def change_visibilities(
        self, queue_id: int, changes: list[tuple[int, str, float]]
    ) -> list[VisibilityChange]:
        clock = self._clock

        def job(conn: sqlite3.Connection) -> list[VisibilityChange]:
            now = clock.now()
            outcomes = []
            for sequence, receipt, visible_at in changes:
                params = (visible_at, sequence, queue_id, receipt, now)
                if conn.execute(_CHANGE_VISIBILITY, params).rowcount > 0:
                    outcomes.append(VisibilityChange.CHANGED)
                elif conn.execute(_HELD, (sequence, queue_id, receipt)).fetchone() is not None:
                    outcomes.append(VisibilityChange.NOT_IN_FLIGHT)
                else:
                    outcomes.append(VisibilityChange.NOT_FOUND)
            return outcomes

        return await self._db.write(job)

    async def count_messages(self, queue_id: int, now: float) -> tuple[int, int, int]:
        def job(conn: sqlite3.Connection) -> tuple[int, int, int]:
            (visible,) = conn.execute(_COUNT_VISIBLE, (queue_id, now)).fetchone()
            hidden, delayed = conn.execute(_COUNT_HIDDEN, (queue_id, now)).fetchone()
            return int(visible), int(hidden) - int(delayed), int(delayed)

        return await self._db.read(job)

    async def purge(self, queue_id: int) -> int:
        return await self._db.write(lambda conn: conn.execute(_PURGE, (queue_id,)).rowcount)

    async def peek_visible(self, queue_id: int, now: float, limit: int) -> list[MessageRecord]:
        def job(conn: sqlite3.Connection) -> list[MessageRecord]:
            return [_message(row) for row in conn.execute(_PEEK, (queue_id, now, limit))]

        return await self._db.read(job)

    async def move_messages(self, queue_id: int, moves: list[tuple[int, int]], now: float) -> int:
        return await self._db.write(lambda conn: _move(conn, queue_id, moves, now))

    async def move_task_messages(
        self, handle: str, queue_id: int, moves: list[tuple[int, int]], now: float
    ) -> int:
        def job(conn: sqlite3.Connection) -> int:
            moved = _move(conn, queue_id, moves, now)
            conn.execute(_TASK_MOVED, (moved, handle))
            return moved

        return await self._db.write(job)

    async def create_move_task(self, record: MoveTaskRecord, keep: int) -> None:
        row = (
            record.handle,
            record.source_arn,
            record.source_queue_id,
            record.destination_arn,
            record.rate,
            record.started_ms,
            record.to_move,
            record.moved,
            record.status,
            record.failure,
        )

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(_INSERT_TASK, row)
            conn.execute(_FORGET_TASKS, (record.source_arn, record.source_arn, keep))

        await self._db.write(job)

    async def update_move_task(self, handle: str, status: str, failure: str | None) -> None:
        await self._db.write(lambda conn: conn.execute(_UPDATE_TASK, (status, failure, handle)))

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTaskRecord]:
        def job(conn: sqlite3.Connection) -> list[MoveTaskRecord]:
            return [_task(row) for row in conn.execute(_LIST_TASKS, (source_arn, limit))]

        return await self._db.read(job)

    async def unfinished_move_tasks(self) -> list[MoveTaskRecord]:
        def job(conn: sqlite3.Connection) -> list[MoveTaskRecord]:
            return [_task(row) for row in conn.execute(_UNFINISHED_TASKS)]

        return await self._db.read(job)

    async def expire(self, now: float, limit: int = 1000) -> int:
        def job(conn: sqlite3.Connection) -> int:
            conn.execute(_EXPIRE_DEDUP, (now,))
            conn.execute(_EXPIRE_ATTEMPTS, (now,))
            deleted = 0
            for queue_id, retention in conn.execute(_RETENTIONS).fetchall():
                if retention is None or deleted >= limit:
                    continue
                cutoff = now - float(retention)
                deleted += conn.execute(_EXPIRE_QUEUE, (queue_id, cutoff, limit - deleted)).rowcount
            return deleted

        return await self._db.write(job)
