"""kill -9 at a random moment loses no acknowledged write and leaves nothing half-done.

A subprocess (``crash_worker.py``) writes objects (inline and blob-backed, some overwriting
each other) and messages with four concurrent writers, printing each id once its write returned.
The test SIGKILLs it at a random moment, reopens the stores as start-up does (blob store
``start``, metadata ``start``, :func:`recover`) and checks every acknowledged record, the bytes
of every blob against its MD5, and that no intent, staging file or unreferenced blob survives.
Several rounds run on the same directory, so recovery also runs over earlier crashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kumoi.core.clock import Clock
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.recovery import recover

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 6
MIN_ACKS = 20
ROUND_TIMEOUT_S = 20.0


def crash_once(root: Path, seed: int) -> list[str]:
    """Run the worker until it has acknowledged some writes, SIGKILL it, return complete lines."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(root), str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    lines: list[str] = []
    enough = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            if raw.endswith(b"\n"):
                lines.append(raw.decode().rstrip("\n"))
                if len(lines) >= MIN_ACKS:
                    enough.set()
        enough.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert enough.wait(ROUND_TIMEOUT_S), "worker produced no output"
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    time.sleep(random.Random(seed).uniform(0.0, 0.6))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
    return lines


async def verify(root: Path, lines: list[str]) -> None:
    blobs = LocalBlobStore(root / "data")
    meta = SqliteMetadataStore(root / "meta.db", clock=Clock())
    await blobs.start()
    await meta.start()
    try:
        await recover(meta, blobs)
        assert await meta.pending_blob_intents() == []
        assert list((root / "data" / "tmp").iterdir()) == []

        objects = {o.key: o for o in await meta.s3.list_objects("crash", limit=1_000_000)}
        for line in lines:
            if line.startswith("O "):
                _, key, etag = line.split(" ")
                assert key in objects, f"acknowledged object {key} lost"
                if not key.endswith("/hot"):
                    assert objects[key].etag == etag
        for listed in objects.values():
            record = await meta.s3.get_object("crash", listed.key)
            assert record is not None
            data = record.inline if record.blob_id is None else blobs.path_of(record.blob_id).read_bytes()
            assert data is not None and hashlib.md5(data).hexdigest() == record.etag, record.key

        referenced = {o.blob_id for o in objects.values() if o.blob_id}
        garbage = set(await meta.take_garbage(1_000_000))
        on_disk = {p.name for p in (root / "data" / "blobs").rglob("*") if p.is_file()}
        assert on_disk <= referenced | garbage, "a blob survived that nothing references"
        assert not referenced & garbage

        queue = await meta.sqs.get_queue("111122223333", "crash")
        assert queue is not None and queue.queue_id is not None
        stored = {
            m.message_id
            for m in await meta.sqs.receive(queue.queue_id, time.time() + 1, 1_000_000, 0.0, False)
        }
        acked = {line.split(" ")[1] for line in lines if line.startswith("M ")}
        assert acked <= stored, f"acknowledged messages lost: {sorted(acked - stored)[:5]}"
    finally:
        await meta.close()
        await blobs.close()


@pytest.mark.slow
def test_kill_minus_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    for round_ in range(ROUNDS):
        lines = crash_once(tmp_path, seed + round_)
        assert lines[0] == "READY"
        asyncio.run(verify(tmp_path, lines[1:]))
