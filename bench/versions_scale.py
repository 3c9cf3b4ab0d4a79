"""ListObjectVersions page latency at 10,000 versions against 1,000,000 versions (issue 7: listing
stays O(page) at millions of versions), in the store and through the real server.

    python bench/versions_scale.py [--versions 1000000] [--small 10000] [--repeat 15] [--port 16100]

Both buckets get keys ``k<n>`` with five versions each (the latest of every fifth key a delete
marker), written straight into the SQLite tables (a million versions through HTTP takes too long;
the rows have the shape the server writes). Pages of 1,000 entries are timed at several positions
(first page, after a key half-way through, inside one key's versions, under a prefix, with a
delimiter), first as store calls, then as signed HTTP requests to a server started on the data
directory (median and best of ``--repeat``; presigned URLs, so the figures leave out the SDK's XML parsing).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract import BucketRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore

PER_KEY = 5
PAGE = 1000
ATTRS = '{"Owner":"000000000000","Checksums":{"crc32":"AAAAAA=="}}'
#: The ``listed_checksums`` column of rows with :data:`ATTRS` (what the store writes with them).
LISTED = "CRC32:FULL_OBJECT"
CONFIG = '{"Versioning":{"Status":"Enabled"},"ObjectOwnership":"BucketOwnerEnforced"}'


def fill(conn: sqlite3.Connection, bucket: str, keys: int) -> None:
    conn.execute(
        "INSERT INTO buckets (name, account_id, region, created, config) VALUES (?, ?, ?, ?, ?)",
        (bucket, "000000000000", "us-east-1", 1.0, CONFIG),
    )
    batch_old: list[tuple[Any, ...]] = []
    batch_current: list[tuple[Any, ...]] = []
    for n in range(keys):
        key = f"d{n // 1000:04d}/k{n:07d}"
        hidden = n % 5 == 0
        for v in range(PER_KEY - (0 if hidden else 1)):
            batch_old.append(
                (bucket, key, f"{n:07d}v{v}".ljust(32, "x"), 0, 1e9 + v + 1, 1, '"e"', 1e9 + v, ATTRS, LISTED)
            )
        if hidden:
            batch_old.append((bucket, key, f"{n:07d}dm".ljust(32, "x"), 1, None, 0, "", 1e9 + 9, "{}", None))
        else:
            batch_current.append(
                (bucket, key, 1, '"e"', 1e9 + 9, ATTRS, f"{n:07d}cur".ljust(32, "x"), b"x", LISTED)
            )
        if len(batch_old) > 50_000:
            _flush(conn, batch_old, batch_current)
    _flush(conn, batch_old, batch_current)


def _flush(conn: sqlite3.Connection, old: list[tuple[Any, ...]], current: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO object_versions (bucket, key, version_id, delete_marker, superseded, size, etag, "
        "last_modified, attrs, listed_checksums) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        old,
    )
    conn.executemany(
        "INSERT INTO objects (bucket, key, size, etag, last_modified, attrs, version_id, inline, "
        "listed_checksums) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        current,
    )
    old.clear()
    current.clear()


def positions(keys: int) -> dict[str, dict[str, str]]:
    middle = keys // 2
    return {
        "first": {},
        "middle": {"KeyMarker": f"d{middle // 1000:04d}/k{middle:07d}"},
        "inside_key": {
            "KeyMarker": f"d{middle // 1000:04d}/k{middle:07d}",
            "VersionIdMarker": f"{middle:07d}v2".ljust(32, "x"),
        },
        "prefix": {"Prefix": "d0001/"},
        "delimiter": {"Delimiter": "/", "MaxKeys": "10"},
    }


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


async def store_times(path: Path, sizes: dict[str, int], repeat: int) -> dict[str, dict[str, float]]:
    store = SqliteMetadataStore(path, clock=Clock())
    await store.start()
    results: dict[str, dict[str, float]] = {}
    try:
        for bucket, keys in sizes.items():
            for name, params in positions(keys).items():
                if "Delimiter" in params:
                    continue
                prefix = params.get("Prefix", "")
                samples = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    page = await store.s3.list_versions(
                        bucket,
                        prefix,
                        params.get("KeyMarker", ""),
                        params.get("VersionIdMarker", ""),
                        PAGE + 1,
                    )
                    samples.append((time.perf_counter() - start) * 1000)
                    assert len(page) == PAGE + 1, (bucket, name, len(page))
                results[f"{bucket}/{name}"] = {
                    "median_ms": statistics.median(samples),
                    "best_ms": min(samples),
                }
    finally:
        await store.close()
    return results


def _fetch(url: str) -> bytes:
    """One page as raw XML (what the server spends, without the SDK's parsing)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
    assert b"<ListVersionsResult" in body, body[:200]
    return body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--port", type=int, default=16100)
    args = parser.parse_args()
    sizes = {"small": args.small // PER_KEY, "large": args.versions // PER_KEY}
    with tempfile.TemporaryDirectory(prefix="versions-scale-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        path = data_dir / "meta.sqlite3"

        async def build() -> None:
            store = SqliteMetadataStore(path, clock=Clock())
            await store.start()
            await store.s3.create_bucket(BucketRecord("warmup", "000000000000", "us-east-1", 1.0))
            for bucket, keys in sizes.items():
                await store.db.write(functools.partial(fill, bucket=bucket, keys=keys))
            await store.close()

        started = time.perf_counter()
        asyncio.run(build())
        print(f"filled {sum(sizes.values()) * PER_KEY} versions in {time.perf_counter() - started:.1f}s")
        for name, figures in asyncio.run(
            store_times(path, {"small": sizes["small"], "large": sizes["large"]}, args.repeat)
        ).items():
            print(
                f"store  {name:22s} median {figures['median_ms']:7.2f} ms  best {figures['best_ms']:7.2f} ms"
            )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kumoi",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--data-dir",
                str(data_dir),
                "--log-level",
                "warning",
            ],
        )
        try:
            endpoint = f"http://127.0.0.1:{args.port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{endpoint}/_kumoi/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            s3 = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1}),
            )
            for bucket, keys in sizes.items():
                for name, params in positions(keys).items():
                    request: dict[str, Any] = {"Bucket": bucket, **params}
                    if "MaxKeys" in request:
                        request["MaxKeys"] = int(request["MaxKeys"])
                    url = s3.generate_presigned_url("list_object_versions", Params=request, ExpiresIn=3600)
                    median, best = timed(functools.partial(_fetch, url), args.repeat)
                    print(f"server {bucket}/{name:16s} median {median:7.2f} ms  best {best:7.2f} ms")
        finally:
            server.terminate()
            server.wait(20)


if __name__ == "__main__":
    main()
