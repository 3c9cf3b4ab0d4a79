"""What the ``kill -9`` tests share: clients that fail fast, contents derived from keys, one crash
round (work in threads, SIGKILL, restart on the same data), and the check that no blob file on
disk is an orphan."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess, start_server

#: Longest wait for the workers' first acknowledged write, and for them to end after the kill.
WAIT_SECONDS = 30.0


def fail_fast_client(server: ServerProcess, service: str = "s3") -> Any:
    """No retries and short timeouts: a call to a killed server must fail fast, not be retried."""
    return server.client(service, attempts=0, connect_timeout=2, read_timeout=10)


def derived_bytes(text: str, size: Callable[[bytes], int]) -> bytes:
    """``text``'s SHA-256 digest repeated to ``size(digest)`` bytes: any object found after a crash
    can be checked from its key alone, acknowledged or not."""
    seed = hashlib.sha256(text.encode()).digest()
    length = size(seed)
    return (seed * (length // len(seed) + 1))[:length]


def crash_round(
    server: ServerProcess,
    work: Iterable[Callable[[], object]],
    pause: tuple[float, float],
    *,
    stop: threading.Event | None = None,
    started: threading.Event | None = None,
    env: Mapping[str, str] | None = None,
) -> ServerProcess:
    """Run each of ``work`` in a thread; once ``started`` is set (if given), SIGKILL the server
    after a random pause in ``pause`` seconds; set ``stop``, wait for the threads, and start the
    server again on the same data directory and port (with ``env``)."""
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    if started is not None:
        # On a loaded machine the first answers can take a while: kill only once work is going.
        assert started.wait(WAIT_SECONDS), "the workers never got going"
    time.sleep(random.uniform(*pause))
    server.kill()
    if stop is not None:
        stop.set()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    return start_server(server.data_dir, port=server.port, env=env)


def assert_blobs_accounted(
    data_dir: Path, *, blob_tables: Sequence[str], manifest_tables: Sequence[str] = ()
) -> None:
    """No write intent is left, and every blob file on disk is referenced (by the ``blob_id`` of a
    row of ``blob_tables`` or the manifest of a row of ``manifest_tables``) or queued as garbage."""
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT count(*) FROM blob_intents").fetchone()[0] == 0
        known = {row[0] for row in db.execute("SELECT blob_id FROM blob_garbage")}
        for table in blob_tables:
            known |= {row[0] for row in db.execute(f"SELECT blob_id FROM {table} WHERE blob_id IS NOT NULL")}
        for table in manifest_tables:
            for (manifest,) in db.execute(f"SELECT manifest FROM {table} WHERE manifest IS NOT NULL"):
                known |= {blob_id for blob_id, _size in json.loads(manifest)}
    finally:
        db.close()
    on_disk = {path.name for path in (data_dir / "blobs" / "blobs").glob("*/*/*")}
    assert on_disk <= known, f"{len(on_disk - known)} orphaned blob files"


def stored_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key ``bucket`` lists under ``prefix``, page by page."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
