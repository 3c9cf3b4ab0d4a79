"""ReceiveRequestAttemptId on FIFO queues (boto3): a retried receive gets the same messages and
receipt handles within the 5-minute interval as long as nothing changed them; the id is
validated; standard queues ignore it; the attempt survives a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.sqs.conftest import aws_error
from tests.support.server import start_server


def _fill(sqs: Any, url: str, groups: str = "AB") -> None:
    for group in groups:
        for index in range(2):
            sqs.send_message(
                QueueUrl=url,
                MessageBody=f"{group}{index}",
                MessageGroupId=group,
                MessageDeduplicationId=f"{group}{index}",
            )


def _receive(sqs: Any, url: str, attempt: str, **extra: Any) -> list[dict[str, Any]]:
    got = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        ReceiveRequestAttemptId=attempt,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
        **extra,
    )
    return list(got.get("Messages", []))


def _handles(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["Body"], m["ReceiptHandle"]) for m in messages]


def test_retry_returns_the_same_messages_and_handles(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue(fifo=True)
    _fill(sqs, url)
    first = _receive(sqs, url, "attempt-1", VisibilityTimeout=30)
    assert sorted(m["Body"] for m in first) == ["A0", "A1", "B0", "B1"]
    advance(20)
    retry = _receive(sqs, url, "attempt-1", VisibilityTimeout=30)
    assert _handles(retry) == _handles(first)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in retry} == {"1"}
    # The retry reset the visibility timeout: 20 s later the messages are still in flight.
    advance(20)
    assert _receive(sqs, url, "other") == []
    assert _handles(_receive(sqs, url, "attempt-1", VisibilityTimeout=30)) == _handles(first)
    for message in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert _receive(sqs, url, "attempt-1") == []


def test_changed_messages_end_the_retry(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue(fifo=True)
    _fill(sqs, url, groups="A")
    first = _receive(sqs, url, "changed", VisibilityTimeout=30)
    assert [m["Body"] for m in first] == ["A0", "A1"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"], VisibilityTimeout=0)
    # A1 was changed: the retry is a new receive, which finds group A blocked behind in-flight A0.
    assert _receive(sqs, url, "changed") == []
    # After the visibility timeout a retry does not return the old handles either.
    second = _receive(sqs, url, "expired", VisibilityTimeout=5)
    advance(6)
    again = _receive(sqs, url, "expired", VisibilityTimeout=5)
    assert [m["Body"] for m in again] == [m["Body"] for m in second]
    assert {m["ReceiptHandle"] for m in again}.isdisjoint(m["ReceiptHandle"] for m in second)


def test_attempt_ids_expire_after_five_minutes(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue(fifo=True)
    _fill(sqs, url, groups="A")
    assert len(_receive(sqs, url, "window", VisibilityTimeout=900)) == 2
    advance(301)
    assert _receive(sqs, url, "window") == []  # a new receive: group A is still in flight


def test_attempt_id_validation_and_standard_queues(sqs: Any, queue: Callable[..., str]) -> None:
    fifo = queue(fifo=True)
    for bad in ("x" * 129, "has space", "é", ""):
        with aws_error("InvalidParameterValue"):
            sqs.receive_message(QueueUrl=fifo, ReceiveRequestAttemptId=bad)
    assert "Messages" not in sqs.receive_message(
        QueueUrl=fifo, ReceiveRequestAttemptId="!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + "a" * 96
    )
    standard = queue()
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=standard, MessageBody=body)
    first = _receive(sqs, standard, "has space")  # ignored, not validated, on standard queues
    second = _receive(sqs, standard, "has space")
    assert sorted(m["Body"] for m in first + second) == ["one", "two"]
    assert not {m["ReceiptHandle"] for m in first} & {m["ReceiptHandle"] for m in second}


def test_attempt_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="attempts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        _fill(sqs, url)
        first = _receive(sqs, url, "durable", VisibilityTimeout=120)
    finally:
        server.kill()
    server = start_server(data, port=server.port)
    try:
        sqs = server.client("sqs")
        assert _handles(_receive(sqs, url, "durable", VisibilityTimeout=120)) == _handles(first)
    finally:
        server.stop()
