"""Long polls on standard queues are handed a send's messages in the send's own transaction: what
the receiver gets, and what the queue shows, is exactly what an ordinary receive would give."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support.server import start_server

#: How long a test lets its long polls reach the server (and arm) before it sends.
SETTLE_S = 0.4


def _poll_later(sqs: Any, pool: ThreadPoolExecutor, **params: Any) -> Any:
    future = pool.submit(sqs.receive_message, **params)
    time.sleep(SETTLE_S)
    return future


def test_a_long_poll_gets_the_message_with_its_attributes_and_hides_it(
    sqs: Any, queue: Callable[..., str]
) -> None:
    url = queue()
    with ThreadPoolExecutor(1) as pool:
        poll = _poll_later(
            sqs,
            pool,
            QueueUrl=url,
            WaitTimeSeconds=10,
            VisibilityTimeout=300,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        began = time.monotonic()
        sent = sqs.send_message(
            QueueUrl=url,
            MessageBody="hello",
            MessageAttributes={
                "colour": {"DataType": "String", "StringValue": "blue"},
                "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        )
        (message,) = poll.result(10)["Messages"]
    assert time.monotonic() - began < 2
    assert message["MessageId"] == sent["MessageId"] and message["Body"] == "hello"
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "ApproximateFirstReceiveTimestamp" in message["Attributes"]
    # It is in flight for the poll's visibility timeout, like any received message.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    # Its handle works: visibility can be changed, and the message deleted.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_waiting_polls_share_a_batch_each_message_once(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    with ThreadPoolExecutor(4) as pool:
        polls = [
            pool.submit(
                sqs.receive_message,
                QueueUrl=url,
                WaitTimeSeconds=10,
                MaxNumberOfMessages=3,
                VisibilityTimeout=300,
            )
            for _ in range(4)
        ]
        time.sleep(SETTLE_S)
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)]
        )
        got = [poll.result(15).get("Messages", []) for poll in polls]
    assert all(len(messages) <= 3 for messages in got)
    bodies = sorted(int(m["Body"]) for messages in got for m in messages)
    assert bodies == list(range(10))
    handles = [m["ReceiptHandle"] for messages in got for m in messages]
    assert len(set(handles)) == 10
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(handles)]
    )
    assert len(deleted["Successful"]) == 10
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_delayed_message_is_not_handed_to_a_long_poll(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    with ThreadPoolExecutor(1) as pool:
        poll = _poll_later(sqs, pool, QueueUrl=url, WaitTimeSeconds=1)
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        assert "Messages" not in poll.result(10)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"


def test_fifo_long_polls_still_receive_in_order(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue(fifo=True, ContentBasedDeduplication="true")
    with ThreadPoolExecutor(1) as pool:
        poll = _poll_later(sqs, pool, QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=10)
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": str(i), "MessageGroupId": "g"} for i in range(3)],
        )
        got = poll.result(10)["Messages"]
    assert [m["Body"] for m in got][:1] == ["0"]
    assert [m["Body"] for m in got] == sorted(m["Body"] for m in got)


def test_many_polls_and_senders_lose_and_duplicate_nothing(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    total = 200
    seen: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 30

    def consume() -> None:
        while time.monotonic() < stop:
            with lock:
                if len(seen) >= total:
                    return
            got = sqs.receive_message(
                QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=4, VisibilityTimeout=300
            )
            with lock:
                seen.extend(m["Body"] for m in got.get("Messages", []))

    def produce(start: int) -> None:
        for index in range(start, total, 4):
            sqs.send_message(QueueUrl=url, MessageBody=str(index))

    with ThreadPoolExecutor(8) as pool:
        consumers = [pool.submit(consume) for _ in range(4)]
        producers = [pool.submit(produce, start) for start in range(4)]
        for future in producers + consumers:
            future.result(40)
    assert sorted(seen, key=int) == [str(index) for index in range(total)]


def test_a_handed_message_is_durable_and_in_flight_after_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="handoff-crash")["QueueUrl"]
        with ThreadPoolExecutor(1) as pool:
            poll = _poll_later(sqs, pool, QueueUrl=url, WaitTimeSeconds=10, VisibilityTimeout=2)
            sqs.send_message(QueueUrl=url, MessageBody="kept")
            (message,) = poll.result(10)["Messages"]
    finally:
        server.kill()
    server = start_server(data, port=server.port)
    try:
        sqs = server.client("sqs")
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (
            int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])
            == 1
        )
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["ApproximateReceiveCount"])
        (again,) = got["Messages"]
        assert again["MessageId"] == message["MessageId"]
        assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    finally:
        server.stop()
