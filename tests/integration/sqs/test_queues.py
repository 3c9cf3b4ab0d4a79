"""Queue management through boto3 (json protocol): create rules, attributes, tags, permissions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sqs.conftest import aws_error, unique


def test_create_is_idempotent_and_conflicts(sqs: Any) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    with aws_error("QueueAlreadyExists"):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"})
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


@pytest.mark.parametrize(
    "name", ["", "a" * 81, "bad name", "ümlaut", "x.fifo.fifo", ".fifo", "b" * 76 + ".fifo"]
)
def test_queue_name_rules(sqs: Any, name: str) -> None:
    with aws_error("InvalidParameterValue"):
        sqs.create_queue(QueueName=name)


def test_fifo_name_and_attribute_must_agree(sqs: Any) -> None:
    with aws_error("InvalidParameterValue"):
        sqs.create_queue(QueueName=unique(), Attributes={"FifoQueue": "true"})
    with aws_error("InvalidParameterValue"):
        sqs.create_queue(QueueName=unique() + ".fifo", Attributes={"FifoQueue": "false"})
    url = sqs.create_queue(QueueName=unique() + ".fifo")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true" and attributes["DeduplicationScope"] == "queue"
    assert (
        attributes["FifoThroughputLimit"] == "perQueue" and attributes["ContentBasedDeduplication"] == "false"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VisibilityTimeout", "43201"),
        ("DelaySeconds", "901"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("KmsDataKeyReusePeriodSeconds", "59"),
        ("SqsManagedSseEnabled", "maybe"),
        ("VisibilityTimeout", "-1"),
        ("Policy", "{not json"),
    ],
)
def test_invalid_attribute_values(sqs: Any, queue: Callable[..., str], name: str, value: str) -> None:
    url = queue()
    with aws_error("InvalidAttributeValue"):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    with aws_error("InvalidAttributeValue"):
        sqs.create_queue(QueueName=unique(), Attributes={name: value})


def test_unknown_attribute_names(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    for name in ("Bogus", "ContentBasedDeduplication", "FifoQueue", "QueueArn"):
        with aws_error("InvalidAttributeName"):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={name: "true"})
    with aws_error("InvalidAttributeName"):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])


def test_attributes_defaults_and_changes(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue(KmsMasterKeyId="alias/aws/sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["MaximumMessageSize"] == "1048576"  # AWS's 2025 default (1 MiB)
    assert attributes["MessageRetentionPeriod"] == "345600" and attributes["VisibilityTimeout"] == "30"
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attributes["QueueArn"].startswith("arn:aws:sqs:us-east-1:000000000000:")
    assert attributes["ApproximateNumberOfMessages"] == "0"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5", "SqsManagedSseEnabled": "FALSE"})
    changed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "SqsManagedSseEnabled"])
    assert changed["Attributes"] == {"DelaySeconds": "5", "SqsManagedSseEnabled": "false"}


def test_missing_queue_errors(sqs: Any) -> None:
    missing = "http://127.0.0.1/000000000000/" + unique("absent")
    with aws_error("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.get_queue_url(QueueName=unique("absent"))
    with aws_error("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.get_queue_attributes(QueueUrl=missing)
    with aws_error("InvalidAddress", 404):
        sqs.get_queue_attributes(QueueUrl="http://127.0.0.1/not-a-queue-url")


def test_delete_and_recreate_waits_60_seconds(sqs: Any, advance: Callable[[float], None]) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with aws_error("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.delete_queue(QueueUrl=url)
    with aws_error("AWS.SimpleQueueService.QueueDeletedRecently"):
        sqs.create_queue(QueueName=name)
    advance(61)
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url


def test_list_queues_prefix_and_pages(sqs: Any) -> None:
    prefix = unique("list")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        sqs.create_queue(QueueName=name)
    seen: list[str] = []
    kwargs: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 2}
    for _page in range(5):
        page = sqs.list_queues(**kwargs)
        seen += [url.rsplit("/", 1)[1] for url in page.get("QueueUrls", [])]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == names
    with aws_error("InvalidParameterValue"):
        sqs.list_queues(MaxResults=1001)
    with aws_error("InvalidParameterValue"):
        sqs.list_queues(NextToken="!!!not a token")


def test_tags(sqs: Any, queue: Callable[..., str]) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name, tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    with aws_error("InvalidParameterValue"):
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)})
    with aws_error("InvalidParameterValue"):
        sqs.tag_queue(QueueUrl=url, Tags={"aws:reserved": "v"})


def test_permissions(sqs: Any, queue: Callable[..., str]) -> None:
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="p1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Sid"] == "p1" and statement["Action"] == ["SQS:SendMessage"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    with aws_error("InvalidParameterValue"):
        sqs.add_permission(QueueUrl=url, Label="p1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    with aws_error("InvalidParameterValue"):
        sqs.add_permission(QueueUrl=url, Label="p2", AWSAccountIds=["111122223333"], Actions=["CreateQueue"])
    with aws_error("OverLimit", 403):
        sqs.add_permission(
            QueueUrl=url, Label="p3", AWSAccountIds=["111122223333"], Actions=["SendMessage"] * 8
        )
    sqs.remove_permission(QueueUrl=url, Label="p1")
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    with aws_error("InvalidParameterValue"):
        sqs.remove_permission(QueueUrl=url, Label="p1")


def test_purge_once_a_minute(sqs: Any, queue: Callable[..., str], advance: Callable[[float], None]) -> None:
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with aws_error("AWS.SimpleQueueService.PurgeQueueInProgress", 403):
        sqs.purge_queue(QueueUrl=url)
    advance(61)
    sqs.purge_queue(QueueUrl=url)
