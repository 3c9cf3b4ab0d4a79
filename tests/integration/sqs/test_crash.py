"""kill -9: acknowledged messages survive, deleted ones never come back, in-flight ones reappear
once their visibility timeout has passed."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess, start_server


def _client(server: ServerProcess) -> Any:
    return server.client("sqs")


def _advance(server: ServerProcess, seconds: float) -> None:
    request = urllib.request.Request(
        f"{server.endpoint}/_kumoi/clock", method="POST", data=json.dumps({"advance": seconds}).encode()
    )
    urllib.request.urlopen(request, timeout=5).close()


def _drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    for _page in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        if "Messages" not in got:
            break
        bodies += [m["Body"] for m in got["Messages"]]
    return bodies


def test_kill_9_keeps_acknowledged_and_deleted_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, args=("--test-clock",))
    try:
        sqs = _client(server)
        url = sqs.create_queue(QueueName="crash")["QueueUrl"]
        for start in range(0, 50, 10):
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
            )
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)[
            "Messages"
        ]
        deleted = received[:10]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(deleted)],
        )
    finally:
        server.kill()
    server = start_server(data, args=("--test-clock",), port=server.port)
    try:
        sqs = _client(server)
        never_received = _drain(sqs, url)
        in_flight = {m["Body"] for m in received[10:]}
        assert len(never_received) == 30 and not in_flight & set(never_received)
        _advance(server, 31)  # the in-flight messages' visibility timeout passes
        assert set(_drain(sqs, url)) == in_flight
        _advance(server, 601)
        everything = set(_drain(sqs, url))
        assert everything == {f"m{i}" for i in range(50)} - {m["Body"] for m in deleted}
    finally:
        server.stop()
