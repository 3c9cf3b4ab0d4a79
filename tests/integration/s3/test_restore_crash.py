"""kill -9 while objects are written straight to GLACIER (archived right after the write) and
restored: after a restart nothing acknowledged is lost (every object restores to its bytes,
archived or not yet), and every blob file on disk is referenced or queued as garbage."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.crash import (
    assert_blobs_accounted,
    crash_round,
    derived_bytes,
    fail_fast_client,
    stored_keys,
)
from tests.support.server import ServerProcess, start_server

BUCKET = "crash-archive"
ROUNDS = 2
#: Restores complete within milliseconds: the real clock drives this test.
ENV = {"KUMOI_RESTORE_SPEEDUP": "1000000", "KUMOI_LIFECYCLE_INTERVAL_SECONDS": "0"}


def content_for(key: str) -> bytes:
    """Over 64 KiB, so every object is a blob when it is archived."""
    return derived_bytes(key, lambda seed: 70_000 + seed[2] * 700)


class Writers:
    def __init__(self, server: ServerProcess, round_no: int) -> None:
        self.s3 = fail_fast_client(server)
        self.round_no = round_no
        self.stop = threading.Event()
        self.acknowledged: list[str] = []

    def run(self, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            key = f"r{self.round_no}/w{worker}/{n}"
            n += 1
            try:
                self.s3.put_object(Bucket=BUCKET, Key=key, Body=content_for(key), StorageClass="GLACIER")
                self.acknowledged.append(key)
                self.s3.restore_object(
                    Bucket=BUCKET,
                    Key=key,
                    RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}},
                )
            except Exception:
                return


def _read_back(s3: Any, key: str) -> bytes:
    """The object's bytes, restoring it first if need be (bounded wait)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            return body
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidObjectState":
                raise
        try:
            s3.restore_object(Bucket=BUCKET, Key=key, RestoreRequest={"Days": 1})
        except ClientError as error:
            if error.response["Error"]["Code"] != "RestoreAlreadyInProgress":
                raise
        assert time.monotonic() < deadline, f"{key} never became readable"
        time.sleep(0.3)


@pytest.mark.slow
def test_archiving_and_restores_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env=ENV)
    try:
        fail_fast_client(server).create_bucket(Bucket=BUCKET)
        acknowledged: list[str] = []
        for round_no in range(ROUNDS):
            writers = Writers(server, round_no)
            work = [functools.partial(writers.run, i) for i in range(3)]
            server = crash_round(server, work, (0.8, 2.0), stop=writers.stop, env=ENV)
            acknowledged += writers.acknowledged
            assert_blobs_accounted(
                data_dir, blob_tables=("objects",), manifest_tables=("objects", "s3_restores")
            )
            s3 = fail_fast_client(server)
            listed = stored_keys(s3, BUCKET)
            assert set(acknowledged) <= set(listed)
            for key in listed:
                assert _read_back(s3, key) == content_for(key), f"{key} came back wrong"
        assert acknowledged, "the writers never got going"
    finally:
        server.stop()
