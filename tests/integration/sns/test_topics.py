"""Topics through boto3: create (idempotent), attributes, tags, permissions, listing, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.integration.sns.conftest import aws_error, unique


def test_create_topic_is_idempotent_and_checks_attributes(sns: Any) -> None:
    name = unique()
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Hi"}, Tags=[{"Key": "k", "Value": "v"}])[
        "TopicArn"
    ]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Hi"})["TopicArn"] == arn
    with aws_error("InvalidParameter") as error:
        sns.create_topic(Name=name, Attributes={"DisplayName": "Other"})
    assert "Topic already exists with different attributes" in error.message
    with aws_error("InvalidParameter"):
        sns.create_topic(Name=name, Tags=[{"Key": "k", "Value": "other"}])


def test_topic_names_and_fifo_rules(sns: Any) -> None:
    for bad in ("", "has space", "x" * 257, "dots.not.allowed"):
        with aws_error("InvalidParameter"):
            sns.create_topic(Name=bad)
    with aws_error("InvalidParameter") as error:
        sns.create_topic(Name=unique(), Attributes={"FifoTopic": "true"})
    assert "Fifo Topic names must end with .fifo" in error.message
    with aws_error("InvalidParameter"):
        sns.create_topic(Name=unique() + ".fifo", Attributes={"FifoTopic": "false"})
    with aws_error("InvalidParameter"):
        sns.create_topic(Name=unique(), Attributes={"ContentBasedDeduplication": "true"})
    with aws_error("InvalidParameter"):
        sns.create_topic(Name=unique(), Attributes={"NoSuchAttribute": "1"})
    arn = sns.create_topic(Name=unique() + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true" and attributes["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "true"


def test_topic_attributes_defaults_and_updates(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn and attributes["Owner"] == "000000000000"
    assert attributes["SubscriptionsConfirmed"] == "0" and attributes["SubscriptionsPending"] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    assert "defaultHealthyRetryPolicy" in json.loads(attributes["EffectiveDeliveryPolicy"])["http"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shown")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns")
    delivery = {
        "http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 1, "maxDelayTarget": 2}}
    }
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(delivery)
    )
    _url, queue_arn = queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="someone@example.com")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Shown" and attributes["KmsMasterKeyId"] == "alias/aws/sns"
    assert json.loads(attributes["DeliveryPolicy"]) == delivery
    assert (
        json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"]
        == 5
    )
    assert attributes["SubscriptionsConfirmed"] == "1" and attributes["SubscriptionsPending"] == "1"
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"


def test_topic_attribute_errors(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    with aws_error("InvalidParameter"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Bogus", AttributeValue="1")
    with aws_error("InvalidParameter"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue="{not json")
    with aws_error("InvalidParameter"):
        sns.set_topic_attributes(
            TopicArn=arn,
            AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 1000}}}),
        )
    with aws_error("InvalidParameter"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="MaximumMessageSize", AttributeValue="10")
    with aws_error("NotFound", 404):
        sns.get_topic_attributes(TopicArn=arn + "-missing")
    with aws_error("NotFound", 404):
        sns.set_topic_attributes(TopicArn=arn + "-missing", AttributeName="DisplayName", AttributeValue="x")
    with aws_error("InvalidParameter"):
        sns.get_topic_attributes(TopicArn="not-an-arn")


def test_list_topics_paginates(sns: Any, topic: Callable[..., str]) -> None:
    created = {topic() for _ in range(105)}
    seen: list[str] = []
    pages = 0
    token: str | None = None
    while pages < 100:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        pages += 1
        assert len(page["Topics"]) <= 100
        seen += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    assert created <= set(seen) and len(seen) == len(set(seen)) and pages >= 2


def test_delete_topic_removes_its_subscriptions(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    _url, queue_arn = queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting twice is not an error
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with aws_error("NotFound", 404):
        sns.get_subscription_attributes(SubscriptionArn=sub)
    with aws_error("NotFound", 404):
        sns.publish(TopicArn=arn, Message="gone")


def test_tags(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with aws_error("ResourceNotFound", 404):
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")
    with aws_error("TagLimitExceeded"):
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])


def test_add_and_remove_permission(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    sns.add_permission(TopicArn=arn, Label="share", AWSAccountId=["111122223333"], ActionName=["Publish"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    shared = [s for s in statements if s["Sid"] == "share"]
    assert shared and shared[0]["Action"] == ["SNS:Publish"]
    assert shared[0]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}
    with aws_error("InvalidParameter"):
        sns.add_permission(TopicArn=arn, Label="share", AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.remove_permission(TopicArn=arn, Label="share")
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert all(s["Sid"] != "share" for s in statements)
    with aws_error("NotFound", 404):
        sns.add_permission(
            TopicArn=arn + "x", Label="l", AWSAccountId=["111122223333"], ActionName=["Publish"]
        )
