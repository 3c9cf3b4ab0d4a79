"""ListObjectsV2 page latency at 10,000 keys against 1,000,000 keys (issue 3: a page at 1M keys
within 1.5x of a page at 10k keys), through the real server.

    python bench/list_scale.py [--keys 1000000] [--small 10000] [--repeat 25] [--out results.json]

Filling a bucket with a million keys through HTTP takes long, so the buckets are filled through
the storage API (the SQLite repository's ``put_object``, the same write jobs a PutObject commits)
with copies of a record the server itself wrote for a real 1-byte PutObject, so every row carries
the attributes a real object has (owner, encryption, inline sealed bytes). The server is then
started on that data directory and each page is timed as a signed HTTP request (median and best
of ``--repeat``, the two buckets taking turns; signing happens before the clock starts).

Keys are ``d<dir>/k<n>``, 1,000 keys per directory (10 directories at 10k keys, 1,000 at 1M), so
every page shape returns the same number of entries in both buckets:

- ``first``: the first 1,000 keys; ``middle``: 1,000 keys after a key half-way through
- ``prefix``: the 1,000 keys under ``d0005/``; ``prefix_delimiter``: the same with ``delimiter=/``
- ``delimiter``: ``delimiter=/`` at the root, ``max-keys=10`` (10 common prefixes, each a skip scan)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from kumoi.core.clock import Clock
from kumoi.storage import snapshot
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from tests.support.raw import signed_headers
from tests.support.server import ServerProcess, start_server

PER_DIR = 1000
#: Puts in flight while filling (the writer thread commits them in groups).
FILL_WINDOW = 2048
UNSIGNED = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
#: A bucket the timer writes to between pages.
SCRATCH = "list-scale-scratch"


def key_of(index: int) -> str:
    return f"d{index // PER_DIR:04d}/k{index:07d}"


def template_record(data_dir: Path) -> ObjectRecord:
    """Write one object through the server; return its stored record."""
    server = start_server(data_dir, args=("--log-level", "warning"))
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="template")
        s3.put_object(Bucket="template", Key="t", Body=b"x")
    finally:
        server.stop()

    async def read() -> ObjectRecord:
        meta = SqliteMetadataStore(data_dir / snapshot.META_NAME, clock=Clock())
        await meta.start()
        try:
            record = await meta.s3.get_object("template", "t")
        finally:
            await meta.close()
        assert record is not None
        return record

    return asyncio.run(read())


async def fill(data_dir: Path, template: ObjectRecord, buckets: dict[str, int]) -> dict[str, float]:
    """Create each bucket with its number of keys; return seconds taken per bucket."""
    meta = SqliteMetadataStore(data_dir / snapshot.META_NAME, clock=Clock())
    await meta.start()
    taken: dict[str, float] = {}
    try:
        owner = (await meta.s3.get_bucket("template")) or BucketRecord("", "000000000000", "us-east-1", 0.0)
        for name, count in buckets.items():
            began = time.perf_counter()
            await meta.s3.create_bucket(BucketRecord(name, owner.account_id, owner.region, time.time()))
            pending: list[asyncio.Future[None]] = []
            for index in range(count):
                record = dataclasses.replace(template, bucket=name, key=key_of(index), attrs=template.attrs)
                pending.append(asyncio.ensure_future(meta.s3.put_object(record)))
                if len(pending) >= FILL_WINDOW:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
            taken[name] = round(time.perf_counter() - began, 1)
    finally:
        await meta.close()
    return taken


def page_queries(total: int) -> dict[str, str]:
    middle = quote(key_of(total // 2), safe="")
    return {
        "first": "list-type=2",
        "middle": f"list-type=2&start-after={middle}",
        "prefix": "list-type=2&prefix=d0005%2F",
        "prefix_delimiter": "list-type=2&prefix=d0005%2F&delimiter=%2F",
        "delimiter": "list-type=2&delimiter=%2F&max-keys=10",
    }


class PageTimer:
    """Times signed ListObjectsV2 requests on one kept-alive connection."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server
        self._connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)

    def once(self, bucket: str, query: str) -> tuple[float, int]:
        """Milliseconds for one page read from the store, and the page's response size. A PUT
        to another bucket first makes sure the page is not answered from the read cache (any
        commit retires what it keeps), and no page was read ahead either."""
        self._request("PUT", f"/{SCRATCH}/commit", b"x")
        path = f"/{bucket}?{query}"
        began = time.perf_counter()
        body = self._request("GET", path, b"")
        return (time.perf_counter() - began) * 1000, len(body)

    def create_scratch_bucket(self) -> None:
        self._request("PUT", f"/{SCRATCH}", b"")

    def _request(self, method: str, path: str, body: bytes) -> bytes:
        headers = signed_headers(method, self._server.endpoint + path, body, dict(UNSIGNED), "s3")
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return data

    def close(self) -> None:
        self._connection.close()


def time_shape(timer: PageTimer, buckets: dict[str, int], shape: str, repeat: int) -> dict[str, float]:
    """Median and best milliseconds of one page shape per bucket; the buckets take turns, so
    load from elsewhere on the machine hits both alike."""
    queries = {bucket: page_queries(count)[shape] for bucket, count in buckets.items()}
    times: dict[str, list[float]] = {bucket: [] for bucket in buckets}
    row: dict[str, float] = {}
    for bucket, query in queries.items():  # warm the page cache and statement caches
        for _ in range(3):
            timer.once(bucket, query)
    for _ in range(repeat):
        for bucket, query in queries.items():
            elapsed, size = timer.once(bucket, query)
            times[bucket].append(elapsed)
            row[f"{bucket}_bytes"] = size
    for bucket, values in times.items():
        row[f"{bucket}_ms"] = round(statistics.median(values), 2)
        row[f"{bucket}_best_ms"] = round(min(values), 2)
    names = list(buckets)
    row["ratio"] = round(row[f"{names[1]}_ms"] / row[f"{names[0]}_ms"], 2)
    row["best_ratio"] = round(row[f"{names[1]}_best_ms"] / row[f"{names[0]}_best_ms"], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--data-dir", type=Path, help="reuse (or create) this data directory")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        buckets = {"small": args.small, "large": args.keys}
        results: dict[str, object] = {"keys": buckets}
        if not (data_dir / snapshot.META_NAME).exists():
            template = template_record(data_dir)
            results["fill_seconds"] = asyncio.run(fill(data_dir, template, buckets))
        server = start_server(data_dir, args=("--log-level", "warning"))
        timer = PageTimer(server)
        try:
            timer.create_scratch_bucket()
            results["pages"] = {
                shape: time_shape(timer, buckets, shape, args.repeat) for shape in page_queries(0)
            }
        finally:
            timer.close()
            server.stop()
    report(results, args.out)


if __name__ == "__main__":
    main()
