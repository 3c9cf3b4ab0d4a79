"""Writes objects and messages until killed, printing each id once its write is acknowledged.

Run by ``test_crash.py`` as ``python crash_worker.py ROOT SEED``: the parent SIGKILLs it at a
random moment and checks that everything printed survived.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import random
import sys
import time
from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.contract import BucketExists, BucketRecord, MessageRecord, ObjectRecord, QueueRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.recovery import collect_garbage, recover

BUCKET = "crash"
WRITERS = 4
INLINE_MAX = 4096
CHUNK = 65536
SIZES = [0, 10, 3000, 300_000, 700_000]


async def put_object(meta: SqliteMetadataStore, blobs: LocalBlobStore, key: str, data: bytes) -> str:
    """Store ``data`` under ``key`` the way the S3 service does; return the ETag (MD5 hex)."""
    now = time.time()
    if len(data) <= INLINE_MAX:
        etag = hashlib.md5(data).hexdigest()
        await meta.s3.put_object(ObjectRecord(BUCKET, key, len(data), etag, now, inline=data))
        return etag
    blob = blobs.new_writer(["crc32c"])
    await meta.record_blob_intent(blob.blob_id)
    for start in range(0, len(data), CHUNK):
        await blob.write(data[start : start + CHUNK])
    info = await blob.commit()
    etag = info.md5.hex()
    await meta.s3.put_object(ObjectRecord(BUCKET, key, info.size, etag, now, blob_id=info.blob_id))
    return etag


async def writer(
    meta: SqliteMetadataStore, blobs: LocalBlobStore, queue_id: int, name: str, seed: int
) -> None:
    """Forever: put an object (every fourth one overwrites a "hot" key), then send a message."""
    rng = random.Random(seed)
    for i in itertools.count(1):
        key = f"{name}/hot" if i % 4 == 0 else f"{name}/{i}"
        etag = await put_object(meta, blobs, key, rng.randbytes(rng.choice(SIZES)))
        print(f"O {key} {etag}", flush=True)
        message = MessageRecord(f"{name}-{i}", f"body {key}", time.time(), time.time())
        await meta.sqs.send(queue_id, [message])
        print(f"M {message.message_id}", flush=True)
        if i % 10 == 0:
            await collect_garbage(meta, blobs)


async def main(root: Path, seed: int) -> None:
    meta = SqliteMetadataStore(root / "meta.db", clock=Clock())
    blobs = LocalBlobStore(root / "data")
    await meta.start()
    await blobs.start()
    await recover(meta, blobs)
    with contextlib.suppress(BucketExists):
        await meta.s3.create_bucket(BucketRecord(BUCKET, "111122223333", "us-east-1", 0.0))
    queue = await meta.sqs.create_queue(QueueRecord("111122223333", "crash", 0.0))
    assert queue.queue_id is not None
    print("READY", flush=True)
    await asyncio.gather(
        *(writer(meta, blobs, queue.queue_id, f"w{seed}-{n}", seed * 100 + n) for n in range(WRITERS))
    )


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
