"""kill -9 during multipart uploads, copies and deletes: acknowledged state survives, nothing shows
half-done, and every blob file left on disk is accounted for (referenced, or queued as garbage).

Object contents derive from their keys (a copy's from its source key), so any object that is
visible after the crash can be checked, acknowledged or not.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess, start_server

ROUNDS = 3
BUCKET = "crash-mpu"
PART = 5 * 1024 * 1024


def client(server: ServerProcess) -> Any:
    """No retries and short timeouts: a call to a killed server must fail fast."""
    return server.client("s3", attempts=0, connect_timeout=2, read_timeout=10)


def content_for(key: str) -> bytes:
    """Deterministic bytes for ``key``: two parts, the second short."""
    source = key.removeprefix("copy/")
    seed = hashlib.sha256(source.encode()).digest()
    size = PART + 1 + int.from_bytes(seed[:2], "big")
    return (seed * (size // len(seed) + 1))[:size]


class Workers:
    def __init__(self, server: ServerProcess, round_no: int) -> None:
        self.server = server
        self.round_no = round_no
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def uploads(self, worker: int) -> None:
        s3 = client(self.server)
        for n in range(1000):
            if self.stop.is_set():
                return
            key = f"r{self.round_no}/w{worker}/{n}"
            data = content_for(key)
            try:
                upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
                parts = []
                for number, chunk in enumerate((data[:PART], data[PART:]), start=1):
                    etag = s3.upload_part(
                        Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    )["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag})
                s3.complete_multipart_upload(
                    Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                with self.lock:
                    self.created.append(key)
                s3.copy_object(Bucket=BUCKET, Key=f"copy/{key}", CopySource=f"{BUCKET}/{key}")
                with self.lock:
                    self.created.append(f"copy/{key}")
                if n % 2:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                    with self.lock:
                        self.deleted.append(key)
            except Exception:
                return


def _accounted_blobs(data_dir: Path) -> None:
    """Every blob file is referenced by an object or a part, or queued as garbage; no intent is left."""
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT count(*) FROM blob_intents").fetchone()[0] == 0
        known = {row[0] for row in db.execute("SELECT blob_id FROM objects WHERE blob_id IS NOT NULL")}
        for (manifest,) in db.execute("SELECT manifest FROM objects WHERE manifest IS NOT NULL"):
            known |= {blob_id for blob_id, _size in json.loads(manifest)}
        known |= {row[0] for row in db.execute("SELECT blob_id FROM s3_parts")}
        known |= {row[0] for row in db.execute("SELECT blob_id FROM blob_garbage")}
    finally:
        db.close()
    on_disk = {path.name for path in (data_dir / "blobs" / "blobs").glob("*/*/*")}
    assert on_disk <= known, f"{len(on_disk - known)} orphaned blob files"


@pytest.mark.slow
def test_multipart_copy_delete_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random()
    server = start_server(data_dir)
    try:
        client(server).create_bucket(Bucket=BUCKET)
        created: list[str] = []
        deleted: set[str] = set()
        for round_no in range(ROUNDS):
            workers = Workers(server, round_no)
            threads = [threading.Thread(target=workers.uploads, args=(i,)) for i in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.8, 2.0))
            server.kill()
            workers.stop.set()
            for thread in threads:
                thread.join(30)
            created += workers.created
            deleted |= set(workers.deleted)
            server = start_server(data_dir, port=server.port)
            s3 = client(server)
            for key in created:
                if key in deleted:
                    continue
                body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                assert body == content_for(key), f"object {key} corrupted after crash"
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for page in pages:
                for item in page.get("Contents", []):
                    assert item["Key"] not in deleted, f"deleted {item['Key']} came back"
                    body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
                    assert body == content_for(item["Key"]), f"half-written {item['Key']} is visible"
            _accounted_blobs(data_dir)
        assert created, "the workers never got going"
    finally:
        server.stop()
