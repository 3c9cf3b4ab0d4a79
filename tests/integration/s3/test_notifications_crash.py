"""kill -9 right after a burst of acknowledged PutObjects: every acknowledged object's event reaches
its queue once kumoi is started again (the outbox rows a crash leaves are delivered on restart)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from tests.support.crash import fail_fast_client
from tests.support.server import start_server

BUCKET = "crash-events"
WRITERS = 4
PUTS_PER_WRITER = 100
#: Acknowledged puts after which the server is killed (writers are still running then).
KILL_AFTER = 150
#: Longest wait for the recovered events after the restart.
RECOVERY_DEADLINE_SECONDS = 20.0


def left_in_outbox(data_dir: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM s3_event_outbox").fetchone()[0])


def test_acknowledged_put_event_is_delivered_after_kill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        sqs, s3 = fail_fast_client(server, "sqs"), fail_fast_client(server, "s3")
        url = sqs.create_queue(QueueName="crash-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        acknowledged: list[str] = []
        lock = threading.Lock()

        enough = threading.Event()

        def writer(number: int) -> None:
            own = fail_fast_client(server, "s3")
            for n in range(PUTS_PER_WRITER):
                key = f"w{number}/{n}"
                try:
                    own.put_object(Bucket=BUCKET, Key=key, Body=b"x")
                except Exception:
                    return  # the server was killed under this request: not acknowledged
                with lock:
                    acknowledged.append(key)
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()

        threads = [threading.Thread(target=writer, args=(number,)) for number in range(WRITERS)]
        for thread in threads:
            thread.start()
        enough.wait(RECOVERY_DEADLINE_SECONDS)
        # Killed while the writers are still going: the last acknowledged events are likely
        # still in the outbox, not yet in the queue.
        server.kill()
        for thread in threads:
            thread.join()
    finally:
        server.kill()
    leftover = left_in_outbox(data_dir)
    print(f"events still in the outbox at the kill: {leftover} of {len(acknowledged)}")

    server = start_server(data_dir)
    try:
        sqs = fail_fast_client(server, "sqs")
        delivered: set[str] = set()
        deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
        while not set(acknowledged) <= delivered and time.monotonic() < deadline:
            response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in response.get("Messages", []):
                body = json.loads(message["Body"])
                if "Records" in body:
                    delivered.add(body["Records"][0]["s3"]["object"]["key"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert acknowledged and set(acknowledged) - delivered == set()
        assert left_in_outbox(data_dir) == 0
    finally:
        server.stop()
