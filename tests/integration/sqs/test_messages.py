"""Sending, receiving, deleting and hiding messages through boto3 (json protocol)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sqs.conftest import aws_error


def test_send_validation(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue(MaximumMessageSize="1024")
    with aws_error("InvalidMessageContents"):
        sqs.send_message(QueueUrl=url, MessageBody="bad \x00 char")
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    with aws_error("InvalidParameterValue"):
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * 1000,
            MessageAttributes={"big": {"DataType": "String", "StringValue": "y" * 30}},
        )
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    with aws_error("MissingParameter"):
        sqs.send_message(QueueUrl=url, MessageBody="")


@pytest.mark.parametrize(
    "attributes",
    [
        {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
        {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
        {"bad name": {"DataType": "String", "StringValue": "v"}},
        {"a..b": {"DataType": "String", "StringValue": "v"}},
        {"n": {"DataType": "Number", "StringValue": "twelve"}},
        {"s": {"DataType": "String", "StringValue": ""}},
        {"t": {"DataType": "Text", "StringValue": "v"}},
        {"b": {"DataType": "Binary", "StringValue": "v"}},
    ],
)
def test_message_attribute_rules(sqs: Any, queue: Callable[..., str], attributes: dict[str, Any]) -> None:
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue(), MessageBody="x", MessageAttributes=attributes)


def test_attributes_round_trip_and_system_attributes(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    attributes = {
        "s": {"DataType": "String.custom", "StringValue": "雲"},
        "n": {"DataType": "Number", "StringValue": "-1.5e3"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    }
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}}
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="hi", MessageAttributes=attributes, MessageSystemAttributes=trace
    )
    assert "MD5OfMessageSystemAttributes" in sent  # botocore checks the body/attribute MD5s itself
    got = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"][0]
    assert got["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
    assert got["Attributes"]["AWSTraceHeader"] == "Root=1-abc"
    assert got["Attributes"]["ApproximateReceiveCount"] == "1"
    with aws_error("InvalidAttributeName"):
        sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["Bogus"])


def test_receive_parameter_ranges(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    for params in (
        {"MaxNumberOfMessages": 11},
        {"MaxNumberOfMessages": 0},
        {"WaitTimeSeconds": 21},
        {"VisibilityTimeout": 43201},
    ):
        with aws_error("InvalidParameterValue"):
            sqs.receive_message(QueueUrl=url, **params)


def test_delay_precedence(sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]) -> None:
    url = queue(DelaySeconds="10")
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["no delay"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert counts["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    advance(10)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["queue delay"]


def test_stale_receipt_handle_does_not_delete(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue(VisibilityTimeout="5")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    advance(6)
    second = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first)  # succeeds, deletes nothing
    with aws_error("InvalidParameterValue"):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first, VisibilityTimeout=0)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second, VisibilityTimeout=0)
    with aws_error("AWS.SimpleQueueService.MessageNotInflight"):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second, VisibilityTimeout=10)
    again = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "3"
    with aws_error("ReceiptHandleIsInvalid", 404):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    with aws_error("InvalidParameterValue"):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second, VisibilityTimeout=43201)


def test_handle_of_an_earlier_version_is_stale(sqs: Any, queue: Callable[..., str]) -> None:
    """A handle in the format earlier kumoi versions issued (message id and token) is accepted
    as a stale one: deleting with it succeeds and deletes nothing."""
    url = queue(VisibilityTimeout="0")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]
    token = base64.urlsafe_b64decode(received["ReceiptHandle"]).split(b":")[1]
    legacy = base64.urlsafe_b64encode(received["MessageId"].encode() + b":" + token).decode()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=legacy)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == received["MessageId"]


def test_visibility_change_is_measured_from_the_call(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=100)["Messages"][0]["ReceiptHandle"]
    advance(90)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=20)
    advance(15)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    advance(6)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"


def test_batches(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    with aws_error("AWS.SimpleQueueService.EmptyBatchRequest"):
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    with aws_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest"):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    with aws_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct"):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
    with aws_error("AWS.SimpleQueueService.InvalidBatchEntryId"):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "bad id", "MessageBody": "x"}])
    with aws_error("AWS.SimpleQueueService.BatchRequestTooLong"):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * 300_000} for i in range(4)]
        )
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": "fine"},
            {"Id": "bad", "MessageBody": "\x01"},
            {"Id": "late", "MessageBody": "later", "DelaySeconds": 900},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["late", "ok"]
    assert result["Failed"] == [
        {
            "Id": "bad",
            "SenderFault": True,
            "Code": "InvalidMessageContents",
            "Message": result["Failed"][0]["Message"],
        }
    ]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 60},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": message["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": "garbage"},
        ],
    )
    assert [e["Id"] for e in deleted["Successful"]] == ["a"] and deleted["Failed"][0]["Id"] == "b"
    with aws_error("AWS.SimpleQueueService.EmptyBatchRequest"):
        sqs.delete_message_batch(QueueUrl=url, Entries=[])


def test_retention(sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]) -> None:
    url = queue(MessageRetentionPeriod="60")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    advance(61)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["new"]


def test_long_poll_wakes_on_send_and_on_visibility(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    timer = threading.Timer(0.2, lambda: sqs.send_message(QueueUrl=url, MessageBody="wake"))
    began = time.monotonic()
    timer.start()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    assert got["Messages"][0]["Body"] == "wake" and time.monotonic() - began < 2
    handle = got["Messages"][0]["ReceiptHandle"]
    release = threading.Timer(
        0.2, lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    )
    began = time.monotonic()
    release.start()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"][0]["Body"] == "wake"
    assert time.monotonic() - began < 2
    # A short visibility timeout: the poll wakes when the message becomes visible again.
    sqs.send_message(QueueUrl=url, MessageBody="soon")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, MaxNumberOfMessages=10)
    began = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10)
    assert "Messages" in got and 0.5 < time.monotonic() - began < 2.5


def test_concurrent_receivers_never_share(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    for start in range(0, 100, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        )
    seen: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        for _attempt in range(30):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            with lock:
                seen.extend(m["MessageId"] for m in got.get("Messages", []))

    threads = [threading.Thread(target=consume) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 100 and len(set(seen)) == 100
