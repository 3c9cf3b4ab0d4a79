"""FIFO ordering and deduplication, dead-letter queues and message move tasks (boto3), and the
query protocol of older SDKs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kumoi.protocol.overlays.sqs_query import sqs_query_model
from tests.integration.sqs.conftest import aws_error
from tests.support.query_client import QueryClient, QueryError
from tests.support.server import ServerProcess


def test_fifo_rules(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue(fifo=True)
    with aws_error("MissingParameter"):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")  # no dedup id
    with aws_error("InvalidParameterValue"):
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5
        )
    with aws_error("InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g" * 129, MessageDeduplicationId="d")


def test_fifo_order_dedup_and_sequence(
    sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]
) -> None:
    url = queue(fifo=True, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A")
    again = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A")
    assert again["MessageId"] == first["MessageId"] and again["SequenceNumber"] == first["SequenceNumber"]
    second = sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="A")
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="B", MessageDeduplicationId="x")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"])
    head = got["Messages"][0]
    assert head["Body"] == "a1" and head["Attributes"]["MessageGroupId"] == "A"
    # While a1 is in flight group A is blocked; B is not.
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["b1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == [
        "a2"
    ]
    advance(301)
    later = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A")
    assert later["MessageId"] != first["MessageId"]


def test_redrive_to_dead_letter_queue_and_back(sqs: Any, queue: Callable[..., str]) -> None:
    dlq = queue("dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    source = queue("src", RedrivePolicy=policy, VisibilityTimeout="0")
    stored = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(stored["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _receive in range(2):
        assert sqs.receive_message(QueueUrl=source)["Messages"][0]["Body"] == "poison"
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    moved = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])
    assert moved["Messages"][0]["Attributes"]["DeadLetterQueueSourceArn"].endswith(source.rsplit("/", 1)[1])
    with aws_error("InvalidParameterValue"):
        sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=0)
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with aws_error("InvalidParameterValue"):
        sqs.start_message_move_task(SourceArn=source_arn)  # not a dead-letter queue
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    for _attempt in range(100):
        (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        if task["Status"] == "COMPLETED":
            break
        time.sleep(0.02)
    assert task["ApproximateNumberOfMessagesMoved"] == 1 and task["ApproximateNumberOfMessagesToMove"] == 1
    assert sqs.receive_message(QueueUrl=source)["Messages"][0]["Body"] == "poison"
    with aws_error("ResourceNotFoundException", 404):
        sqs.cancel_message_move_task(TaskHandle=handle)
    with aws_error("ResourceNotFoundException", 404):
        sqs.start_message_move_task(SourceArn=dlq_arn + "-absent")


def test_redrive_policy_errors(sqs: Any, queue: Callable[..., str]) -> None:
    fifo_dlq = queue("fdlq", fifo=True)
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo_dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = queue()
    for policy in (
        "not json",
        json.dumps({"maxReceiveCount": 3}),
        json.dumps({"deadLetterTargetArn": fifo_arn, "maxReceiveCount": 0}),
        json.dumps({"deadLetterTargetArn": fifo_arn, "maxReceiveCount": 3}),  # FIFO DLQ for a standard queue
        json.dumps({"deadLetterTargetArn": fifo_arn + "x", "maxReceiveCount": 3}),
    ):
        with aws_error("InvalidParameterValue"):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    denied = queue("denied", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    denied_arn = sqs.get_queue_attributes(QueueUrl=denied, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with aws_error("InvalidParameterValue"):
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": denied_arn, "maxReceiveCount": 3})
            },
        )
    with aws_error("InvalidAttributeValue"):
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})}
        )


def test_query_protocol(server: ServerProcess) -> None:
    client = QueryClient(sqs_query_model(), server.endpoint + "/", signing_name="sqs")
    url = client.call("CreateQueue", QueueName="query-queue", Attributes={"DelaySeconds": "0"})["QueueUrl"]
    batch = client.call(
        "SendMessageBatch",
        QueueUrl=url,
        Entries=[
            {
                "Id": "a",
                "MessageBody": "one",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "MessageBody": "\x02"},
        ],
    )
    assert [e["Id"] for e in batch["Successful"]] == ["a"] and batch["Failed"][0][
        "Code"
    ] == "InvalidMessageContents"
    got = client.call("ReceiveMessage", QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"])
    message = got["Messages"][0]
    assert message["MessageAttributes"]["k"]["StringValue"] == "v"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    client.call("TagQueue", QueueUrl=url, Tags={"a": "b"})
    assert client.call("ListQueueTags", QueueUrl=url)["Tags"] == {"a": "b"}
    for operation, params, code in (
        (
            "CreateQueue",
            {"QueueName": "query-queue", "Attributes": {"DelaySeconds": "9"}},
            "QueueAlreadyExists",
        ),
        (
            "SendMessageBatch",
            {"QueueUrl": url, "Entries": [{"Id": "x", "MessageBody": "m"}] * 2},
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        (
            "SetQueueAttributes",
            {"QueueUrl": url, "Attributes": {"VisibilityTimeout": "99999"}},
            "InvalidAttributeValue",
        ),
    ):
        try:
            client.call(operation, **params)
        except QueryError as error:
            assert error.error["Code"] == code
        else:
            raise AssertionError(f"{operation} should fail")
