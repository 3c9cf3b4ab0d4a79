"""kill -9 while versions are written, hidden and deleted: every acknowledged version survives
with its bytes (unless a version delete was acknowledged), each key keeps one latest version,
and every blob file on disk is referenced by a version or queued as garbage."""

from __future__ import annotations

import functools
import random
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.support.crash import assert_blobs_accounted, crash_round, derived_bytes, fail_fast_client
from tests.support.server import ServerProcess, start_server

ROUNDS = 2
BUCKET = "crash-versions"
KEYS = 4


def content_for(tag: str) -> bytes:
    """Bytes derived from ``tag``: small (inline) or over 64 KiB (a blob), by its hash."""
    return derived_bytes(tag, lambda seed: 100 + seed[0] if seed[1] % 2 else 70_000 + seed[0])


class Workers:
    def __init__(self, server: ServerProcess, round_no: int) -> None:
        self.server = server
        self.round_no = round_no
        self.written: dict[str, tuple[str, str]] = {}  # version id -> (key, tag)
        self.removed: set[str] = set()
        #: Versions a delete was sent for (the crash may have cut off its answer).
        self.doomed: set[str] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        #: Set at the first acknowledged write.
        self.started = threading.Event()

    def run(self, worker: int) -> None:
        s3 = fail_fast_client(self.server)
        rng = random.Random(worker)
        for n in range(10_000):
            if self.stop.is_set():
                return
            key = f"k{rng.randrange(KEYS)}"
            tag = f"r{self.round_no}/w{worker}/{n}"
            try:
                choice = rng.random()
                if choice < 0.6:
                    version = s3.put_object(Bucket=BUCKET, Key=key, Body=content_for(tag))["VersionId"]
                    with self.lock:
                        self.written[version] = (key, tag)
                    self.started.set()
                elif choice < 0.8:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                else:
                    with self.lock:
                        mine = [
                            v for v, (k, _t) in self.written.items() if k == key and v not in self.removed
                        ]
                    if mine:
                        version = rng.choice(mine)
                        with self.lock:
                            self.doomed.add(version)
                        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version)
                        with self.lock:
                            self.removed.add(version)
            except Exception:
                return


def _check_store(data_dir: Path) -> None:
    """One latest version per key at most; every blob file referenced or queued as garbage."""
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        current = {row[0] for row in db.execute("SELECT key FROM objects WHERE bucket = ?", (BUCKET,))}
        latest_markers = [
            row[0]
            for row in db.execute(
                "SELECT key FROM object_versions WHERE bucket = ? AND superseded IS NULL", (BUCKET,)
            )
        ]
        assert len(latest_markers) == len(set(latest_markers))
        assert not current & set(latest_markers)
    finally:
        db.close()
    assert_blobs_accounted(data_dir, blob_tables=("objects", "object_versions"))


@pytest.mark.slow
def test_versions_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = fail_fast_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        written: dict[str, tuple[str, str]] = {}
        removed: set[str] = set()
        doomed: set[str] = set()
        for round_no in range(ROUNDS):
            workers = Workers(server, round_no)
            work = [functools.partial(workers.run, i + 10 * round_no) for i in range(3)]
            server = crash_round(server, work, (0.5, 2.0), stop=workers.stop, started=workers.started)
            written.update(workers.written)
            removed |= workers.removed
            doomed |= workers.doomed
            s3 = fail_fast_client(server)
            listed: dict[str, str] = {}
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
                for item in page.get("Versions", []):
                    listed[item["VersionId"]] = item["Key"]
            for version, (key, tag) in written.items():
                if version in doomed:
                    continue
                assert listed.get(version) == key, f"acknowledged version {version} of {key} lost"
                body = s3.get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read()
                assert body == content_for(tag), f"version {version} corrupted after crash"
            for version in removed:
                assert version not in listed, f"deleted version {version} came back"
            _check_store(data_dir)
        assert written, "the workers never got going"
    finally:
        server.stop()
