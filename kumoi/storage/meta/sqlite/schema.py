"""The SQLite schema, as an ordered list of migrations.

``PRAGMA user_version`` records how many migrations a database file has had. At start-up
:func:`migrate` applies the missing ones in order, each in its own transaction together with the
new version number, so a crash mid-migration leaves the file at the previous version. Existing
steps are never edited: a schema change is a new step appended to :data:`MIGRATIONS`.

Ordering: keys and names are ``TEXT`` with the default ``BINARY`` collation, which compares the
UTF-8 bytes, so ``ORDER BY key`` is S3's UTF-8 byte order. Every listing is a range scan of a
primary key or index (see ``keyrange.py``).

Messages use the table's ``rowid`` (``AUTOINCREMENT``, so never reused) as their sequence number:
it increases monotonically, hence per queue too.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence

log = logging.getLogger("kumoi.storage")

#: One migration: the statements that take the schema from version ``n`` to ``n + 1``.
Migration = tuple[str, ...]


def _rebuilt(table: str, columns: Sequence[str], constraint: str = "") -> Migration:
    """``table`` copied into a new table of the same ``columns`` (``"name TYPE"``) in a new order,
    which then takes its name; its indexes are dropped with it, to be created again."""
    names = ", ".join(column.split()[0] for column in columns)
    definition = ", ".join([*columns, constraint] if constraint else columns)
    return (
        f"CREATE TABLE {table}_rebuilt ({definition})",
        f"INSERT INTO {table}_rebuilt ({names}) SELECT {names} FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_rebuilt RENAME TO {table}",
    )


#: The step that put listed columns first: an object's (or version's) columns up to the last one
#: a listing reads...
_LISTED_OBJECT_COLUMNS = (
    "bucket TEXT NOT NULL",
    "key TEXT NOT NULL",
    "size INTEGER NOT NULL",
    "etag TEXT NOT NULL",
    "last_modified REAL NOT NULL",
    "blob_id TEXT",
    "version_id TEXT",
    "listed_checksums TEXT",
    "attrs TEXT NOT NULL",
)
#: ... then the ones that may be long.
_OBJECT_BYTES = ("manifest TEXT", "inline BLOB")


MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE buckets (
            name TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            created REAL NOT NULL,
            config TEXT NOT NULL
        )""",
        "CREATE INDEX buckets_by_account ON buckets (account_id, name)",
        """CREATE TABLE objects (
            bucket TEXT NOT NULL,
            key TEXT NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            last_modified REAL NOT NULL,
            blob_id TEXT,
            attrs TEXT NOT NULL,
            inline BLOB,
            PRIMARY KEY (bucket, key)
        )""",
        """CREATE TABLE blob_intents (
            blob_id TEXT PRIMARY KEY,
            created REAL NOT NULL
        )""",
        """CREATE TABLE blob_garbage (
            blob_id TEXT PRIMARY KEY,
            queued REAL NOT NULL
        )""",
        """CREATE TABLE queues (
            queue_id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL,
            name TEXT NOT NULL,
            created REAL NOT NULL,
            last_modified REAL NOT NULL,
            attributes TEXT NOT NULL,
            tags TEXT NOT NULL,
            UNIQUE (account_id, name)
        )""",
        """CREATE TABLE messages (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            queue_id INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            body TEXT NOT NULL,
            sent_at REAL NOT NULL,
            visible_at REAL NOT NULL,
            attrs TEXT NOT NULL,
            receive_count INTEGER NOT NULL,
            first_received_at REAL,
            group_id TEXT,
            dedup_id TEXT,
            receipt TEXT
        )""",
        "CREATE INDEX messages_visible ON messages (queue_id, visible_at, sequence, group_id)",
        "CREATE INDEX messages_group ON messages (queue_id, group_id, sequence, visible_at)",
        "CREATE INDEX messages_id ON messages (queue_id, message_id)",
    ),
    # S3 multipart uploads, and objects made of several blobs (a completed upload's parts).
    (
        "ALTER TABLE objects ADD COLUMN manifest TEXT",
        """CREATE TABLE s3_uploads (
            upload_id TEXT PRIMARY KEY,
            bucket TEXT NOT NULL,
            key TEXT NOT NULL,
            initiated REAL NOT NULL,
            attrs TEXT NOT NULL
        )""",
        "CREATE INDEX s3_uploads_by_key ON s3_uploads (bucket, key, upload_id)",
        "CREATE INDEX s3_uploads_by_age ON s3_uploads (initiated)",
        """CREATE TABLE s3_parts (
            upload_id TEXT NOT NULL,
            part_number INTEGER NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            blob_id TEXT NOT NULL,
            last_modified REAL NOT NULL,
            checksums TEXT NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        )""",
    ),
    # SQS: FIFO deduplication entries, and an index for retention (oldest messages of a queue).
    (
        """CREATE TABLE sqs_dedup (
            queue_id INTEGER NOT NULL,
            dedup_key TEXT NOT NULL,
            expires_at REAL NOT NULL,
            message_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            PRIMARY KEY (queue_id, dedup_key)
        ) WITHOUT ROWID""",
        "CREATE INDEX sqs_dedup_by_expiry ON sqs_dedup (expires_at)",
        "CREATE INDEX messages_sent ON messages (queue_id, sent_at)",
    ),
    # IAM and STS: one JSON document per identity entity; sessions carry an expiry.
    (
        """CREATE TABLE iam_documents (
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            expires REAL,
            PRIMARY KEY (account_id, kind, name)
        ) WITHOUT ROWID""",
        "CREATE INDEX iam_documents_by_expiry ON iam_documents (expires) WHERE expires IS NOT NULL",
    ),
    # SNS: topics and subscriptions as documents, FIFO sequence numbers, the delivery outbox.
    (
        """CREATE TABLE sns_resources (
            kind TEXT NOT NULL,
            arn TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (kind, arn)
        ) WITHOUT ROWID""",
        """CREATE TABLE sns_sequences (
            topic_arn TEXT PRIMARY KEY,
            sequence INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE sns_outbox (
            row_id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_arn TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
    ),
    # S3 event notifications: events waiting for delivery to their queue or topic.
    (
        """CREATE TABLE s3_event_outbox (
            row_id INTEGER PRIMARY KEY AUTOINCREMENT,
            destination TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
    ),
    # SNS: the retry progress of outbox rows (HTTP deliveries), FIFO topics' deduplication ids.
    (
        "ALTER TABLE sns_outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sns_outbox ADD COLUMN next_at REAL NOT NULL DEFAULT 0",
        """CREATE TABLE sns_dedup (
            topic_arn TEXT NOT NULL,
            dedup_id TEXT NOT NULL,
            expires REAL NOT NULL,
            message_id TEXT NOT NULL,
            sequence_number TEXT NOT NULL,
            PRIMARY KEY (topic_arn, dedup_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX sns_dedup_by_expiry ON sns_dedup (topic_arn, expires)",
    ),
    # SQS: FIFO receives deduplicated by ReceiveRequestAttemptId, and durable message move tasks.
    (
        """CREATE TABLE sqs_receive_attempts (
            queue_id INTEGER NOT NULL,
            attempt_id TEXT NOT NULL,
            expires_at REAL NOT NULL,
            claimed TEXT NOT NULL,
            PRIMARY KEY (queue_id, attempt_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX sqs_receive_attempts_by_expiry ON sqs_receive_attempts (expires_at)",
        """CREATE TABLE sqs_move_tasks (
            task_id INTEGER PRIMARY KEY AUTOINCREMENT,
            handle TEXT NOT NULL UNIQUE,
            source_arn TEXT NOT NULL,
            source_queue_id INTEGER NOT NULL,
            destination_arn TEXT,
            rate INTEGER,
            started_ms INTEGER NOT NULL,
            to_move INTEGER NOT NULL,
            moved INTEGER NOT NULL,
            status TEXT NOT NULL,
            failure TEXT
        )""",
        "CREATE INDEX sqs_move_tasks_by_source ON sqs_move_tasks (source_arn, task_id)",
        "CREATE INDEX sqs_move_tasks_by_status ON sqs_move_tasks (status)",
    ),
    # S3 versioning: the current version's id in ``objects`` (NULL: the null version), and every
    # noncurrent version and delete marker in ``object_versions``; ``seq`` (the rowid: one more
    # than the largest, which is all the order needs) grows with each row inserted, so a key's
    # versions read newest first in (bucket, key, seq DESC) order.
    (
        "ALTER TABLE objects ADD COLUMN version_id TEXT",
        """CREATE TABLE object_versions (
            seq INTEGER PRIMARY KEY,
            bucket TEXT NOT NULL,
            key TEXT NOT NULL,
            version_id TEXT,
            delete_marker INTEGER NOT NULL,
            superseded REAL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            last_modified REAL NOT NULL,
            blob_id TEXT,
            attrs TEXT NOT NULL,
            manifest TEXT,
            inline BLOB
        )""",
        "CREATE INDEX object_versions_order ON object_versions (bucket, key, seq DESC)",
        "CREATE INDEX object_versions_by_id ON object_versions (bucket, key, version_id)",
    ),
    # S3 archive restores (lifecycle and archive tiers): pending until ready_at, then holding the
    # restored copy's blobs (``manifest``) until expires_at.
    (
        """CREATE TABLE s3_restores (
            archive_id TEXT PRIMARY KEY,
            bucket TEXT NOT NULL,
            key TEXT NOT NULL,
            version_id TEXT,
            ready_at REAL NOT NULL,
            expires_at REAL,
            manifest TEXT
        )""",
        "CREATE INDEX s3_restores_pending ON s3_restores (ready_at) WHERE expires_at IS NULL",
        "CREATE INDEX s3_restores_expiring ON s3_restores (expires_at) WHERE expires_at IS NOT NULL",
    ),
    # SQS receipt handles name messages by sequence: the index on message ids only slowed every
    # send and delete (random keys spread each commit over many index pages).
    ("DROP INDEX messages_id",),
    # S3 listings: each object's and version's checksum algorithms and type as listings show them
    # (``CRC32,SHA256:FULL_OBJECT``, NULL without checksums), written with the row, so a listing
    # reads a column instead of walking the attributes' JSON; existing rows are filled here.
    (
        "ALTER TABLE objects ADD COLUMN listed_checksums TEXT",
        "ALTER TABLE object_versions ADD COLUMN listed_checksums TEXT",
        *(
            f"UPDATE {table} SET listed_checksums = "
            "(SELECT upper(group_concat(c.key)) FROM json_each(attrs, '$.Checksums') AS c) "
            "|| ':' || coalesce(json_extract(attrs, '$.ChecksumType'), 'FULL_OBJECT')"
            for table in ("objects", "object_versions")
        ),
    ),
    # SQS: only FIFO receives read the group index, and only for messages that have a group: a
    # partial index leaves it out of every standard-queue send (a fifth of a send's page writes).
    (
        "DROP INDEX messages_group",
        "CREATE INDEX messages_group ON messages (queue_id, group_id, sequence, visible_at) "
        "WHERE group_id IS NOT NULL",
    ),
    # S3 listings: a listing reads a row's columns up to the last one it shows, and ALTER TABLE
    # had appended ``version_id`` and ``listed_checksums`` after ``inline``: for an object whose
    # inline bytes overflow its page, every listed row walked its overflow pages. Both tables are
    # rebuilt with what listings show first and the bytes last (a 1,000-key page of 4 KiB objects
    # read in 1.9 ms, now 0.9 ms, as one of 16-byte objects does).
    (
        *_rebuilt("objects", (*_LISTED_OBJECT_COLUMNS, *_OBJECT_BYTES), "PRIMARY KEY (bucket, key)"),
        *_rebuilt(
            "object_versions",
            (
                "seq INTEGER PRIMARY KEY",
                *_LISTED_OBJECT_COLUMNS,
                "delete_marker INTEGER NOT NULL",
                "superseded REAL",
                *_OBJECT_BYTES,
            ),
        ),
        "CREATE INDEX object_versions_order ON object_versions (bucket, key, seq DESC)",
        "CREATE INDEX object_versions_by_id ON object_versions (bucket, key, version_id)",
    ),
)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer kumoi (its version is past our last migration)."""


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations ``conn``'s file lacks; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). The version is read inside
    each step's write transaction, so two processes starting at once do not both apply a step.
    """
    started, first = time.monotonic(), None
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version > len(migrations):
                raise SchemaTooNew(f"schema version {version} is newer than this kumoi ({len(migrations)})")
            if first is None:
                first = version
                if 0 < version < len(migrations):
                    # A step may rewrite a whole table: say why start-up waits on a large store.
                    log.info("upgrading the metadata schema from version %d to %d", version, len(migrations))
            if version == len(migrations):
                conn.execute("COMMIT")
                if 0 < first < version:
                    log.info(
                        "metadata schema upgraded from version %d to %d in %.1f s",
                        first,
                        version,
                        time.monotonic() - started,
                    )
                return version
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
