"""kill -9 during multipart uploads, copies and deletes: acknowledged state survives, nothing shows
half-done, and every blob file left on disk is accounted for (referenced, or queued as garbage).

Object contents derive from their keys (a copy's from its source key), so any object that is
visible after the crash can be checked, acknowledged or not.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest

from tests.support.crash import (
    assert_blobs_accounted,
    crash_round,
    derived_bytes,
    fail_fast_client,
    stored_keys,
)
from tests.support.server import ServerProcess, start_server

ROUNDS = 3
BUCKET = "crash-mpu"
PART = 5 * 1024 * 1024


def content_for(key: str) -> bytes:
    """Deterministic bytes for ``key`` (a copy's are its source's): two parts, the second short."""
    return derived_bytes(key.removeprefix("copy/"), lambda seed: PART + 1 + int.from_bytes(seed[:2], "big"))


class Workers:
    def __init__(self, server: ServerProcess, round_no: int) -> None:
        self.server = server
        self.round_no = round_no
        self.created: list[str] = []
        self.deleted: list[str] = []
        #: Keys whose DeleteObject was sent: the crash may land after the delete is stored but
        #: before it is acknowledged, so these may be gone without being in ``deleted``.
        self.deleting: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def uploads(self, worker: int) -> None:
        s3 = fail_fast_client(self.server)
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
                    with self.lock:
                        self.deleting.append(key)
                    s3.delete_object(Bucket=BUCKET, Key=key)
                    with self.lock:
                        self.deleted.append(key)
            except Exception:
                return


@pytest.mark.slow
def test_multipart_copy_delete_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        fail_fast_client(server).create_bucket(Bucket=BUCKET)
        created: list[str] = []
        deleted: set[str] = set()
        deleting: set[str] = set()
        for round_no in range(ROUNDS):
            workers = Workers(server, round_no)
            work = [functools.partial(workers.uploads, i) for i in range(3)]
            server = crash_round(server, work, (0.8, 2.0), stop=workers.stop)
            created += workers.created
            deleted |= set(workers.deleted)
            deleting |= set(workers.deleting)
            s3 = fail_fast_client(server)
            stored = set(stored_keys(s3, BUCKET))
            for key in created:
                if key in deleted or (key in deleting and key not in stored):
                    continue
                body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                assert body == content_for(key), f"object {key} corrupted after crash"
            for key in stored:
                assert key not in deleted, f"deleted {key} came back"
                body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                assert body == content_for(key), f"half-written {key} is visible"
            assert_blobs_accounted(
                data_dir, blob_tables=("objects", "s3_parts"), manifest_tables=("objects",)
            )
        assert created, "the workers never got going"
    finally:
        server.stop()
