"""DuckDB (httpfs, C++ on its own HTTP client) reading and writing Parquet over ``s3://``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.support.duckdb_s3 import duckdb_on
from tests.support.server import ServerProcess

from .conftest import unique

MIB = 1024 * 1024
ROWS = 10_000
LISTING_PAGE = 1000


@pytest.fixture
def db(server: ServerProcess) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb_on(server.endpoint, "test", "test", "us-east-1")
    connection.execute(
        "CREATE TABLE src AS SELECT range AS id, 'row ' || range AS name, range * 0.5 AS amount, "
        "DATE '2024-01-01' + (range % 366)::INTEGER AS day FROM range(?)",
        [ROWS],
    )
    try:
        yield connection
    finally:
        connection.close()


def rows(db: duckdb.DuckDBPyConnection, query: str, *params: object) -> list[tuple[Any, ...]]:
    return db.execute(query, list(params)).fetchall()


def same_as_src(db: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Both directions of EXCEPT ALL are empty: the same rows, duplicates counted."""
    differences = rows(
        db,
        f"SELECT (SELECT count(*) FROM (SELECT * FROM src EXCEPT ALL SELECT * FROM {relation})) + "
        f"(SELECT count(*) FROM (SELECT * FROM {relation} EXCEPT ALL SELECT * FROM src))",
    )
    return bool(differences == [(0,)])


def test_copy_to_parquet_and_read_back(db: duckdb.DuckDBPyConnection, s3: Any, bucket: str) -> None:
    url = f"s3://{bucket}/x.parquet"
    db.execute(f"COPY src TO '{url}' (FORMAT parquet)")
    body = s3.get_object(Bucket=bucket, Key="x.parquet")["Body"].read()
    assert body[:4] == b"PAR1" and body[-4:] == b"PAR1"
    # An independent reader (pyarrow) agrees with what DuckDB wrote.
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == ROWS and table.column_names == ["id", "name", "amount", "day"]
    assert same_as_src(db, f"read_parquet('{url}')")
    assert rows(db, "SELECT sum(num_rows) FROM parquet_file_metadata(?)", url) == [(ROWS,)]
    assert rows(db, "SELECT max(name) FROM read_parquet(?) WHERE id < 10", url) == [("row 9",)]


def test_glob_over_several_files(db: duckdb.DuckDBPyConnection, s3: Any, bucket: str) -> None:
    for part in range(3):
        db.execute(f"COPY (SELECT * FROM src WHERE id % 3 = {part}) TO 's3://{bucket}/g/part-{part}.parquet'")
    s3.put_object(Bucket=bucket, Key="g/notes.txt", Body=b"not parquet")
    db.execute(f"COPY (SELECT * FROM src LIMIT 0) TO 's3://{bucket}/g/deeper/empty.parquet'")
    per_file = rows(
        db,
        "SELECT filename, count(*) FROM read_parquet(?, filename = true) GROUP BY ALL ORDER BY ALL",
        f"s3://{bucket}/g/*.parquet",
    )
    assert per_file == [
        (f"s3://{bucket}/g/part-{part}.parquet", 3334 if part == 0 else 3333) for part in range(3)
    ]
    assert same_as_src(db, f"read_parquet('s3://{bucket}/g/*.parquet')")
    assert rows(db, "SELECT count(*) FROM glob(?)", f"s3://{bucket}/g/**") == [(5,)]
    assert rows(db, "SELECT count(*) FROM read_parquet(?)", f"s3://{bucket}/g/**/*.parquet") == [(ROWS,)]


def test_glob_follows_listing_pages(db: duckdb.DuckDBPyConnection, s3: Any, bucket: str) -> None:
    count = LISTING_PAGE + 10
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: s3.put_object(Bucket=bucket, Key=f"many/{n:05d}.csv", Body=b"a\n1\n"), range(count)
            )
        )
    listed = rows(db, "SELECT count(*), min(file), max(file) FROM glob(?)", f"s3://{bucket}/many/*.csv")
    assert listed == [(count, f"s3://{bucket}/many/00000.csv", f"s3://{bucket}/many/{count - 1:05d}.csv")]


def test_hive_partitioned_write_and_read(db: duckdb.DuckDBPyConnection, s3: Any, bucket: str) -> None:
    db.execute(
        "CREATE TABLE sales AS SELECT range AS id, 2023 + range % 2 AS year, 1 + range % 3 AS month, "
        "range * 1.5 AS total FROM range(600)"
    )
    db.execute(f"COPY sales TO 's3://{bucket}/hive' (FORMAT parquet, PARTITION_BY (year, month))")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="hive/")["Contents"])
    assert keys == [f"hive/year={y}/month={m}/data_0.parquet" for y in (2023, 2024) for m in (1, 2, 3)]
    pattern = f"s3://{bucket}/hive/**/*.parquet"
    counts = rows(
        db,
        "SELECT year, month, count(*), sum(total) FROM read_parquet(?, hive_partitioning = true) "
        "GROUP BY ALL ORDER BY ALL",
        pattern,
    )
    assert counts == rows(db, "SELECT year, month, count(*), sum(total) FROM sales GROUP BY ALL ORDER BY ALL")
    assert rows(
        db, "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE year = 2024", pattern
    ) == [(300,)]
    # APPEND adds files with fresh names next to the existing ones.
    db.execute(
        f"COPY sales TO 's3://{bucket}/hive' (FORMAT parquet, PARTITION_BY (year, month), APPEND true)"
    )
    assert s3.list_objects_v2(Bucket=bucket, Prefix="hive/")["KeyCount"] == 12
    assert rows(db, "SELECT count(*) FROM read_parquet(?)", pattern) == [(1200,)]


def test_large_file_goes_through_multipart_upload(
    db: duckdb.DuckDBPyConnection, s3: Any, bucket: str
) -> None:
    # DuckDB's part size is max(5 MiB-ish, max file size / max parts): the smallest allowed
    # maximum file size gives parts near S3's 5 MiB minimum.
    db.execute("SET s3_uploader_max_filesize = '50GB'")
    db.execute(
        "CREATE TABLE big AS SELECT range AS id, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS h "
        "FROM range(200000)"
    )
    url = f"s3://{bucket}/big.parquet"
    db.execute(f"COPY big TO '{url}' (FORMAT parquet, COMPRESSION uncompressed)")
    head = s3.head_object(Bucket=bucket, Key="big.parquet")
    first = s3.head_object(Bucket=bucket, Key="big.parquet", PartNumber=1)
    assert head["ContentLength"] > 2 * 5 * MIB
    assert first["PartsCount"] >= 3 and head["ETag"].endswith(f'-{first["PartsCount"]}"')
    assert 5 * MIB <= first["ContentLength"] < head["ContentLength"]
    assert rows(db, "SELECT count(*), sum(id), count(DISTINCT h) FROM read_parquet(?)", url) == [
        (200_000, 199_999 * 200_000 // 2, 200_000)
    ]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_missing_object_and_bucket(db: duckdb.DuckDBPyConnection, bucket: str) -> None:
    with pytest.raises(duckdb.HTTPException, match="404"):
        db.execute(f"SELECT * FROM read_parquet('s3://{bucket}/absent.parquet')")
    with pytest.raises(duckdb.IOException, match="No files found"):
        db.execute(f"SELECT * FROM read_parquet('s3://{bucket}/nothing/*.parquet')")
    with pytest.raises(duckdb.HTTPException, match="404"):
        db.execute(f"COPY src TO 's3://{unique('absent')}/x.parquet'")
