"""Publishing through boto3 and receiving from SQS: raw and enveloped, filters, FIFO, batches, DLQ."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.sns.conftest import assert_empty, aws_error, receive_all

ENVELOPE_KEYS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
    "MessageAttributes",
]


def test_fan_out_enveloped_and_raw(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    (env_url, env_arn), (raw_url, raw_arn) = queue(), queue()
    env_sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=env_arn)["SubscriptionArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
    attributes = {
        "color": {"DataType": "String", "StringValue": "red"},
        "size": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    message_id = sns.publish(TopicArn=arn, Message="hello", Subject="Greeting", MessageAttributes=attributes)[
        "MessageId"
    ]
    (enveloped,) = receive_all(sqs, env_url, 1)
    document = json.loads(enveloped["Body"])
    assert list(document) == ENVELOPE_KEYS
    assert document["Type"] == "Notification" and document["MessageId"] == message_id
    assert (
        document["TopicArn"] == arn and document["Message"] == "hello" and document["Subject"] == "Greeting"
    )
    assert document["SignatureVersion"] == "1" and document["UnsubscribeURL"].endswith(
        env_sub.replace(":", "%3A")
    )
    assert document["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "red"},
        "size": {"Type": "Number", "Value": "3"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }
    assert "MessageAttributes" not in enveloped
    (raw,) = receive_all(sqs, raw_url, 1)
    assert raw["Body"] == "hello"
    assert raw["MessageAttributes"]["color"] == {"StringValue": "red", "DataType": "String"}
    assert raw["MessageAttributes"]["size"] == {"StringValue": "3", "DataType": "Number"}
    assert raw["MessageAttributes"]["blob"] == {"BinaryValue": b"\x00\x01", "DataType": "Binary"}
    assert_empty(sqs, env_url)


def test_each_subscription_gets_each_message_once(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    arn = topic()
    queues = [queue() for _ in range(3)]
    for _url, queue_arn in queues:
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
    for i in range(30):
        sns.publish(TopicArn=arn, Message=f"m{i}")
    for url, _arn in queues:
        bodies = [m["Body"] for m in receive_all(sqs, url, 30)]
        assert sorted(bodies) == sorted(f"m{i}" for i in range(30))
        assert_empty(sqs, url)


def test_message_structure_json(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    url, queue_arn = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    message = json.dumps({"default": "for everyone", "sqs": "for queues", "http": "for web"})
    sns.publish(TopicArn=arn, Message=message, MessageStructure="json")
    assert [m["Body"] for m in receive_all(sqs, url, 1)] == ["for queues"]
    with aws_error("InvalidParameter") as error:
        sns.publish(TopicArn=arn, Message=json.dumps({"sqs": "x"}), MessageStructure="json")
    assert error.message == "Invalid parameter: Message Structure - No default entry in JSON message body"
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=arn, Message="{not json", MessageStructure="json")


def test_publish_errors(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    with aws_error("InvalidParameter") as error:
        sns.publish(TopicArn=arn, Message="")
    assert error.message == "Invalid parameter: Empty message"
    with aws_error("InvalidParameter") as error:
        sns.publish(TopicArn=arn, Message="x" * (256 * 1024 + 1))
    assert error.message == "Invalid parameter: Message too long"
    sns.publish(TopicArn=arn, Message="x" * (256 * 1024 - 20))
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=arn, Message="x", Subject="line\nbreak")
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=arn, Message="x", Subject="s" * 101)
    with aws_error("InvalidParameter"):
        sns.publish(
            TopicArn=arn, Message="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}}
        )
    with aws_error("InvalidParameter"):
        sns.publish(
            TopicArn=arn, Message="x", MessageAttributes={"n": {"DataType": "Weird", "StringValue": "a"}}
        )
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=arn, Message="x", MessageDeduplicationId="d")
    with aws_error("NotFound", 404):
        sns.publish(TopicArn=arn + "-missing", Message="x")
    with aws_error("InvalidParameter"):
        sns.publish(Message="nowhere")


def test_maximum_message_size_attribute(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic(MaximumMessageSize="1048576")
    sns.publish(TopicArn=arn, Message="x" * (1024 * 1024 - 10))
    small = topic(MaximumMessageSize="1024")
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=small, Message="x" * 1025)


@pytest.mark.parametrize(
    ("policy", "scope", "delivered"),
    [
        ({"color": ["red", "blue"]}, "MessageAttributes", ["red-3", "blue-7"]),
        ({"size": [{"numeric": [">", 5]}]}, "MessageAttributes", ["blue-7", "green-9"]),
        ({"color": [{"anything-but": ["red"]}]}, "MessageAttributes", ["blue-7", "green-9"]),
        ({"color": [{"prefix": "gr"}]}, "MessageAttributes", ["green-9"]),
        ({"tag": [{"exists": False}]}, "MessageAttributes", ["red-3", "green-9"]),
        ({"$or": [{"color": ["red"]}, {"size": [9]}]}, "MessageAttributes", ["red-3", "green-9"]),
        ({"item": {"color": ["blue"]}}, "MessageBody", ["blue-7"]),
        ({"item": {"size": [{"numeric": ["<=", 7]}]}}, "MessageBody", ["red-3", "blue-7"]),
    ],
)
def test_filter_policies_select_messages(
    sns: Any,
    sqs: Any,
    topic: Callable[..., str],
    queue: Any,
    policy: dict[str, Any],
    scope: str,
    delivered: list[str],
) -> None:
    arn = topic()
    url, queue_arn = queue()
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps(policy),
            "FilterPolicyScope": scope,
        },
    )
    for color, size, tagged in (("red", 3, False), ("blue", 7, True), ("green", 9, False)):
        attributes = {
            "color": {"DataType": "String", "StringValue": color},
            "size": {"DataType": "Number", "StringValue": str(size)},
        }
        if tagged:
            attributes["tag"] = {"DataType": "String", "StringValue": "yes"}
        body = json.dumps({"item": {"color": color, "size": size}, "label": f"{color}-{size}"})
        sns.publish(TopicArn=arn, Message=body, MessageAttributes=attributes)
    received = receive_all(sqs, url, len(delivered), timeout=3)
    assert sorted(json.loads(m["Body"])["label"] for m in received) == sorted(delivered)


def test_fifo_fan_out_keeps_order(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic(fifo=True, ContentBasedDeduplication="true")
    queues = [queue(fifo=True), queue(fifo=True)]
    for _url, queue_arn in queues:
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
    sequence_numbers = []
    for i in range(20):
        result = sns.publish(TopicArn=arn, Message=f"m{i:02d}", MessageGroupId=f"g{i % 2}")
        sequence_numbers.append(int(result["SequenceNumber"]))
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == 20
    duplicate = sns.publish(TopicArn=arn, Message="m00", MessageGroupId="g0")
    assert int(duplicate["SequenceNumber"]) == sequence_numbers[0]
    for url, _arn in queues:
        received = receive_all(sqs, url, 20)
        for group in ("g0", "g1"):
            bodies = [m["Body"] for m in received if int(m["Body"][1:]) % 2 == int(group[1])]
            assert bodies == sorted(bodies) and len(bodies) == 10
        assert_empty(sqs, url)


def test_fifo_publish_rules(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic(fifo=True)
    with aws_error("InvalidParameter") as error:
        sns.publish(TopicArn=arn, Message="x", MessageDeduplicationId="d")
    assert "MessageGroupId parameter is required" in error.message
    with aws_error("InvalidParameter") as error:
        sns.publish(TopicArn=arn, Message="x", MessageGroupId="g")
    assert "ContentBasedDeduplication" in error.message
    first = sns.publish(TopicArn=arn, Message="x", MessageGroupId="g", MessageDeduplicationId="d")
    again = sns.publish(TopicArn=arn, Message="y", MessageGroupId="g", MessageDeduplicationId="d")
    assert first["MessageId"] == again["MessageId"]


def test_fifo_envelope_has_sequence_number(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic(fifo=True)
    url, queue_arn = queue(fifo=True)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    result = sns.publish(TopicArn=arn, Message="x", MessageGroupId="g", MessageDeduplicationId="one")
    (message,) = receive_all(sqs, url, 1)
    document = json.loads(message["Body"])
    assert document["SequenceNumber"] == result["SequenceNumber"]
    assert list(document) == [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
    ]


def test_publish_batch(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    url, queue_arn = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    entries = [{"Id": f"e{i}", "Message": f"b{i}"} for i in range(9)] + [{"Id": "bad", "Message": ""}]
    result = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
    assert sorted(r["Id"] for r in result["Successful"]) == sorted(f"e{i}" for i in range(9))
    assert result["Failed"] == [
        {
            "Id": "bad",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]
    assert sorted(m["Body"] for m in receive_all(sqs, url, 9)) == sorted(f"b{i}" for i in range(9))


def test_publish_batch_errors(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    with aws_error("EmptyBatchRequest"):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[])
    with aws_error("TooManyEntriesInBatchRequest"):
        sns.publish_batch(
            TopicArn=arn, PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)]
        )
    with aws_error("BatchEntryIdsNotDistinct"):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}] * 2)
    with aws_error("InvalidBatchEntryId"):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a b", "Message": "m"}])
    with aws_error("BatchRequestTooLong"):
        sns.publish_batch(
            TopicArn=arn,
            PublishBatchRequestEntries=[{"Id": str(i), "Message": "x" * 100_000} for i in range(3)],
        )
    with aws_error("NotFound", 404):
        sns.publish_batch(TopicArn=arn + "-missing", PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])


def test_deleted_queue_sends_to_the_dead_letter_queue(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    arn = topic()
    url, queue_arn = queue()
    dlq_url, dlq_arn = queue()
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
        },
    )
    sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=arn, Message="orphan")
    assert [m["Body"] for m in receive_all(sqs, dlq_url, 1)] == ["orphan"]


def test_string_array_attributes_reach_raw_queues(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    arn = topic()
    url, queue_arn = queue()
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"tags": ["b"]})},
    )
    tags = {"tags": {"DataType": "String.Array", "StringValue": json.dumps(["a", "b"])}}
    sns.publish(TopicArn=arn, Message="tagged", MessageAttributes=tags)
    (message,) = receive_all(sqs, url, 1)
    assert message["MessageAttributes"]["tags"] == {"StringValue": '["a", "b"]', "DataType": "String.Array"}
    with aws_error("InvalidParameter"):
        sns.publish(
            TopicArn=arn,
            Message="x",
            MessageAttributes={"t": {"DataType": "String.Array", "StringValue": "nope"}},
        )


@pytest.mark.parametrize(
    "attributes",
    [
        {"AWS.reserved": {"DataType": "String", "StringValue": "x"}},
        {"bad name": {"DataType": "String", "StringValue": "x"}},
        {"a..b": {"DataType": "String", "StringValue": "x"}},
        {"empty": {"DataType": "String", "StringValue": ""}},
        {"bin": {"DataType": "Binary", "StringValue": "x"}},
    ],
)
def test_hostile_message_attributes_are_refused(
    sns: Any, topic: Callable[..., str], attributes: dict[str, Any]
) -> None:
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=topic(), Message="x", MessageAttributes=attributes)


def test_long_polls_of_subscribed_queues_get_publishes_once(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    """Receivers long-polling the subscribed queues are handed the publishes (in the publish's
    own transaction): each message once, with the attributes a raw delivery carries."""
    arn = topic()
    (url, queue_arn), (other_url, other_arn) = queue(), queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=other_arn, Attributes={"RawMessageDelivery": "true"})
    with ThreadPoolExecutor(4) as pool:
        polls = [
            pool.submit(
                sqs.receive_message,
                QueueUrl=target,
                WaitTimeSeconds=3,
                MaxNumberOfMessages=10,
                VisibilityTimeout=300,
                MessageAttributeNames=["All"],
            )
            for target in (url, url, other_url, other_url)
        ]
        time.sleep(0.4)
        sns.publish(
            TopicArn=arn,
            Message="now",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "event"}},
        )
        got = [poll.result(15).get("Messages", []) for poll in polls]
    for first, second in (got[:2], got[2:]):
        (message,) = first + second
        assert message["Body"] == "now"
        assert message["MessageAttributes"] == {"kind": {"StringValue": "event", "DataType": "String"}}
    assert_empty(sqs, url)
    assert_empty(sqs, other_url)
