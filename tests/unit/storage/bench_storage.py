"""Storage benchmarks (not collected by pytest): ``python tests/unit/storage/bench_storage.py [DIR]``.

Prints single-row inserts/s through ``Database.write`` at concurrency 1 and 64, durable small
blobs/s, and MB/s of ``write_stream`` for a 1 GiB stream of 1 MiB chunks (MD5 only, and with
SHA-256). ``DIR`` defaults to a temporary directory on the disk under test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.core.streams import BytesBody
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.sqlite import SqliteMetadataStore

MIB = 1 << 20
BIG_CHUNKS = 1024
SMALL_BLOBS = 2000


class RepeatedChunk:
    """``count`` copies of one random 1 MiB chunk, as a body stream."""

    def __init__(self, count: int) -> None:
        self._chunk = os.urandom(MIB)
        self._left = count

    @property
    def content_length(self) -> int | None:
        return None

    async def read(self, n: int = MIB) -> bytes:
        if self._left == 0:
            return b""
        self._left -= 1
        return self._chunk


async def bench_inserts(root: Path) -> None:
    meta = SqliteMetadataStore(root / "bench.db", clock=Clock())
    await meta.start()
    db = meta.db
    await db.write(lambda conn: conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT)"))
    for concurrency, total in ((1, 3000), (64, 64_000)):

        async def worker(count: int) -> None:
            for _ in range(count):
                await db.write(lambda conn: conn.execute("INSERT INTO bench (v) VALUES ('x')"))

        start = time.perf_counter()
        await asyncio.gather(*(worker(total // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        print(f"db.write single-row inserts, concurrency {concurrency:3d}: {total / elapsed:9.0f}/s")
    await meta.close()


async def bench_blobs(root: Path) -> None:
    store = LocalBlobStore(root / "blobs")
    await store.start()
    for algorithms in ((), ("sha256",)):
        start = time.perf_counter()
        info = await store.write_stream(RepeatedChunk(BIG_CHUNKS), algorithms)
        elapsed = time.perf_counter() - start
        label = "+".join(("md5", *algorithms))
        print(f"write_stream 1 GiB in 1 MiB chunks ({label}): {info.size / elapsed / 1e6:6.0f} MB/s")
        await store.delete(info.blob_id)
    for label in ("cold fan-out", "warm fan-out"):
        start = time.perf_counter()
        await asyncio.gather(*(store.write_stream(BytesBody(b"x" * 1000)) for _ in range(SMALL_BLOBS)))
        elapsed = time.perf_counter() - start
        print(f"durable 1 KB blobs, 2000 concurrent ({label}): {SMALL_BLOBS / elapsed:6.0f}/s")
    await store.close()


def main() -> None:
    root = Path(tempfile.mkdtemp(dir=sys.argv[1] if len(sys.argv) > 1 else None))
    try:
        asyncio.run(bench_inserts(root))
        asyncio.run(bench_blobs(root))
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
