"""Helpers for the lifecycle and restore tests: a server of their own whose test clock they move.

Lifecycle works in days, far past SigV4's 15 minutes of allowed skew, so :class:`ShiftedClock`
moves the server's clock and makes botocore sign with the same shifted time (its two signers read
``get_current_datetime``).

A test module imports the fixtures it uses (``lifecycle_server``, ``s3``, ``clock``) and names them
in ``__all__``; each module gets a server of its own.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.crt.auth
import pytest

from tests.support.server import ServerProcess, running_server

DAY = 86400


class ShiftedClock:
    """The server's adjustable clock, and botocore's signing clock moved along with it."""

    def __init__(self, server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server = server
        self.offset = float(self._post("/_kumoi/clock", None)["offset"])
        original: Callable[..., datetime.datetime] = botocore.compat.get_current_datetime

        def shifted(remove_tzinfo: bool = True) -> datetime.datetime:
            return original(remove_tzinfo) + datetime.timedelta(seconds=self.offset)

        monkeypatch.setattr(botocore.auth, "get_current_datetime", shifted)
        monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", shifted)

    def _post(self, path: str, document: dict[str, Any] | None) -> dict[str, Any]:
        data = None if document is None else json.dumps(document).encode()
        method = "GET" if document is None else "POST"
        request = urllib.request.Request(f"{self.server.endpoint}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def advance(self, seconds: float) -> None:
        self.offset = float(self._post("/_kumoi/clock", {"advance": seconds})["offset"])

    def run_lifecycle(self) -> dict[str, Any]:
        """``POST /_kumoi/lifecycle``: one lifecycle pass and one round of restore work.

        The server's own restore task runs every second as well, so a restore that an advance
        made due may be completed (or expired) by either: tests check the restore's outcome, not
        this report's restore counts, which say what this call did."""
        return self._post("/_kumoi/lifecycle", {})


@pytest.fixture(scope="module")
def lifecycle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with the test clock, whose lifecycle worker runs only when asked to."""
    data_dir = tmp_path_factory.mktemp("lifecycle") / "data"
    with running_server(data_dir, args=("--test-clock", "--lifecycle-interval-seconds", "0")) as process:
        yield process


@pytest.fixture
def s3(lifecycle_server: ServerProcess, clock: ShiftedClock) -> Any:
    """An S3 client that signs with the server's shifted time."""
    return lifecycle_server.client("s3")


@pytest.fixture
def clock(lifecycle_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShiftedClock]:
    yield ShiftedClock(lifecycle_server, monkeypatch)


def object_row(server: ServerProcess, bucket: str, key: str) -> tuple[str | None, dict[str, Any]]:
    """(blob id, attrs) of the current object, read from the metadata file (read-only)."""
    path = Path(server.data_dir) / "meta.sqlite3"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT blob_id, attrs FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return row[0], json.loads(row[1])


def blob_path(server: ServerProcess, blob_id: str) -> Path:
    return Path(server.data_dir) / "blobs" / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id


def event_queue(server: ServerProcess, s3: Any, bucket: str, events: Sequence[str]) -> str:
    """The URL of a new queue that ``bucket`` sends its ``events`` to."""
    sqs = server.client("sqs")
    queue: str = sqs.create_queue(QueueName=f"events-{bucket}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": list(events)}]},
    )
    return queue


def received_events(server: ServerProcess, queue: str, count: int) -> list[tuple[str, str]]:
    """(event name, key) of the event records received (and deleted) from ``queue`` until
    ``count`` arrived, or ten one-second polls passed."""
    sqs = server.client("sqs")
    seen: list[tuple[str, str]] = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                seen.append((record["eventName"], record["s3"]["object"]["key"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if len(seen) >= count:
            break
    return seen
