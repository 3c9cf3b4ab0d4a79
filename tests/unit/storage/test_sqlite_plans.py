"""Every hot statement of the SQLite store is an index search: no table scan, no sort."""

from __future__ import annotations

import sqlite3

import pytest

from kumoi.storage.meta.sqlite import blobs, s3, sqs
from kumoi.storage.meta.sqlite.schema import migrate

RANGE = {"owner": "a", "bucket": "b", "lower": "x", "upper": "y", "limit": 5}
STATEMENTS = [
    *((sql, RANGE) for sql in s3._LIST_OBJECTS.values()),
    *((sql, RANGE) for sql in s3._LIST_BUCKETS.values()),
    *((sql, RANGE) for sql in sqs._LIST_QUEUES.values()),
    (s3._GET_OBJECT, ("b", "k")),
    (s3._ANY_OBJECT, ("b",)),
    (s3._DELETE_OBJECT, ("b", "k")),
    (sqs._VISIBLE, (1, 2.0, 10)),
    (sqs._VISIBLE_GROUPS, (1, 2.0)),
    (sqs._GROUP_HEAD, (1, "g", 10)),
    (sqs._claim_sql(2), (1.0, 2.0, 7, "r", 8, "s")),
    (sqs._DELETE_MESSAGE, (1, 1, "r")),
    (sqs._delete_sql(2), (7, "r", 8, "s", 1)),
    (sqs._CHANGE_VISIBILITY, (3.0, 1, "m", "r", 2.0)),
    (sqs._COUNT_VISIBLE, (1, 2.0)),
    (sqs._COUNT_HIDDEN, (1, 2.0)),
    (sqs._PURGE, (1,)),
    (blobs._TAKE_GARBAGE, (10,)),
]


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    migrate(connection)
    return connection


@pytest.mark.parametrize(("sql", "params"), STATEMENTS)
def test_statement_uses_an_index(conn: sqlite3.Connection, sql: str, params: object) -> None:
    details = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]  # type: ignore[arg-type]
    assert details, sql
    for detail in details:
        assert "TEMP B-TREE" not in detail, (sql, details)
        if detail.startswith("SCAN") and "VIRTUAL TABLE" not in detail:  # json_each: one row's JSON
            if "CONSTANT ROWS" in detail or detail in ("SCAN claims", "SCAN handles"):
                continue  # the statement's own VALUES list (one receive's messages)
            assert sql is blobs._TAKE_GARBAGE, (sql, details)  # rowid order: a scan stopped by LIMIT
