"""kill -9 at random moments while PutObjects run on a bucket with a queue configuration: an object
and its event notification are committed together, so after every restart each acknowledged put
has its event delivered, each object the bucket holds (acknowledged or not) has its event, and no
event names an object that was never stored.

Objects are both inline-sized and blob-sized, so both write paths are crashed. Keys carry their
round number, so each round checks its own keys only.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import crash_round, fail_fast_client, stored_keys
from tests.support.server import ServerProcess, start_server

ROUNDS = 3
WRITERS = 4
BUCKET = "crash-outbox"
#: Every fourth object is stored as a blob (larger than the 64 KiB inline limit).
BLOB_EVERY = 4
BLOB_SIZE = 70 * 1024
#: Longest wait for the events after a restart.
DEADLINE_SECONDS = 30.0


class Writers:
    def __init__(self, server: ServerProcess, round_no: int) -> None:
        self.server = server
        self.round_no = round_no
        self.acknowledged: set[str] = set()
        self.lock = threading.Lock()
        self.started = threading.Event()

    def run(self, writer: int) -> None:
        s3 = fail_fast_client(self.server, "s3")
        for n in range(10_000):
            key = f"r{self.round_no}/w{writer}/{n}"
            body = b"b" * BLOB_SIZE if n % BLOB_EVERY == 0 else b"i" * 100
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            except Exception:
                return  # the server was killed under this request: not acknowledged
            with self.lock:
                self.acknowledged.add(key)
            self.started.set()


def receive_events(sqs: Any, url: str, expected: set[str]) -> set[str]:
    """Keys of the ObjectCreated events received (and deleted) until ``expected`` all arrived and
    the queue is empty, or the deadline passed."""
    delivered: set[str] = set()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        wait = 0 if expected <= delivered else 1
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get(
            "Messages", []
        )
        if not messages and expected <= delivered:
            break
        for message in messages:
            body = json.loads(message["Body"])
            if "Records" in body:
                delivered.add(body["Records"][0]["s3"]["object"]["key"])
        if messages:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
    return delivered


@pytest.mark.slow
def test_object_and_event_commit_together_across_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        sqs = fail_fast_client(server, "sqs")
        url = sqs.create_queue(QueueName="crash-outbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3 = fail_fast_client(server, "s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]
            },
        )
        receive_events(sqs, url, set())  # the s3:TestEvent
        for round_no in range(ROUNDS):
            writers = Writers(server, round_no)
            work = [functools.partial(writers.run, i) for i in range(WRITERS)]
            server = crash_round(server, work, (0.2, 1.5), started=writers.started)
            sqs, s3 = fail_fast_client(server, "sqs"), fail_fast_client(server, "s3")
            stored = set(stored_keys(s3, BUCKET, f"r{round_no}/"))
            delivered = receive_events(sqs, url, stored)
            lost = writers.acknowledged - stored
            assert not lost, f"round {round_no}: acknowledged objects lost: {sorted(lost)[:3]}"
            silent = stored - delivered
            assert not silent, (
                f"round {round_no}: {len(silent)} stored objects without event: {sorted(silent)[:3]}"
            )
            ghosts = delivered - stored
            assert not ghosts, f"round {round_no}: events of objects never stored: {sorted(ghosts)[:3]}"
    finally:
        server.stop()
