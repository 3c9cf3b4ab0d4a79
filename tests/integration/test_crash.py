"""kill -9 at a random moment: every acknowledged write survives, nothing half-written shows.

Writers run concurrent PutObject (inline-sized and blob-sized objects) and SendMessage calls and
record what the server acknowledged. The server is killed with SIGKILL mid-stream, restarted on the
same data directory, and then every acknowledged object must read back intact and every
acknowledged message must be receivable. Object contents are derived from their keys, so any
visible object, acknowledged or not, can be checked for integrity.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import crash_round, derived_bytes, fail_fast_client, stored_keys
from tests.support.server import ServerProcess, start_server

ROUNDS = 4
WRITERS = 6
BUCKET = "crash-test"


def content_for(key: str) -> bytes:
    return derived_bytes(key, lambda seed: 1000 + int.from_bytes(seed[:4], "big") % 300_000)


class Writers:
    def __init__(self, server: ServerProcess, queue_url: str, round_no: int) -> None:
        self.server = server
        self.queue_url = queue_url
        self.round_no = round_no
        self.objects: list[str] = []
        self.messages: set[str] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run_objects(self, writer: int) -> None:
        s3 = fail_fast_client(self.server, "s3")
        for n in range(10_000):
            if self.stop.is_set():
                return
            key = f"r{self.round_no}/w{writer}/{n}"
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=content_for(key))
            except Exception:
                return
            with self.lock:
                self.objects.append(key)

    def run_messages(self, writer: int) -> None:
        sqs = fail_fast_client(self.server, "sqs")
        for n in range(10_000):
            if self.stop.is_set():
                return
            body = f"r{self.round_no}/w{writer}/{n}"
            try:
                sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
            except Exception:
                return
            with self.lock:
                self.messages.add(body)


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        fail_fast_client(server, "s3").create_bucket(Bucket=BUCKET)
        queue_url = fail_fast_client(server, "sqs").create_queue(QueueName="crash-test")["QueueUrl"]
        acknowledged_objects: list[str] = []
        acknowledged_messages: set[str] = set()
        for round_no in range(ROUNDS):
            writers = Writers(server, queue_url, round_no)
            work = [functools.partial(writers.run_objects, i) for i in range(WRITERS // 2)]
            work += [functools.partial(writers.run_messages, i) for i in range(WRITERS // 2)]
            server = crash_round(server, work, (0.5, 2.0), stop=writers.stop)
            acknowledged_objects += writers.objects
            acknowledged_messages |= writers.messages
            s3 = fail_fast_client(server, "s3")
            for key in acknowledged_objects:
                body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                assert body == content_for(key), f"object {key} corrupted after crash"
            listed = stored_keys(s3, BUCKET)
            for key in listed:
                assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content_for(key)
        assert acknowledged_objects and acknowledged_messages, "the writers never got going"
        received = _drain(fail_fast_client(server, "sqs"), queue_url)
        missing = acknowledged_messages - received
        assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:3]}"
    finally:
        server.stop()


def _drain(sqs: Any, queue_url: str) -> set[str]:
    bodies: set[str] = set()
    while True:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        messages = page.get("Messages", [])
        if not messages:
            return bodies
        bodies |= {m["Body"] for m in messages}
