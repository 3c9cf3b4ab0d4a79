"""A topic's delivery plan is worked out once and kept: every change of the topic or its
subscriptions must reach the very next publish."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.integration.sns.conftest import assert_empty, aws_error, receive_all


def _body(sqs: Any, url: str) -> str:
    (message,) = receive_all(sqs, url, 1)
    return str(message["Body"])


def test_publishes_follow_subscription_changes(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    arn = topic()
    url, queue_arn = queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.publish(TopicArn=arn, Message="one")
    assert json.loads(_body(sqs, url))["Message"] == "one"

    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    sns.publish(TopicArn=arn, Message="two")
    assert _body(sqs, url) == "two"

    policy = json.dumps({"color": ["red"]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy)
    sns.publish(
        TopicArn=arn,
        Message="blue",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
    )
    sns.publish(
        TopicArn=arn, Message="red", MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}}
    )
    assert _body(sqs, url) == "red"
    assert_empty(sqs, url)

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    sns.publish(TopicArn=arn, Message="unfiltered")
    assert _body(sqs, url) == "unfiltered"

    sns.unsubscribe(SubscriptionArn=sub)
    sns.publish(TopicArn=arn, Message="nobody")
    assert_empty(sqs, url)

    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=arn, Message="again")
    assert _body(sqs, url) == "again"


def test_publishes_follow_topic_changes(sns: Any, sqs: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    url, queue_arn = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=arn, Message="x" * 2000)
    assert json.loads(_body(sqs, url))["SignatureVersion"] == "1"

    sns.set_topic_attributes(TopicArn=arn, AttributeName="MaximumMessageSize", AttributeValue="1024")
    with aws_error("InvalidParameter"):
        sns.publish(TopicArn=arn, Message="x" * 2000)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=arn, Message="small")
    assert json.loads(_body(sqs, url))["SignatureVersion"] == "2"


def test_redrive_policy_change_reaches_refused_deliveries(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any
) -> None:
    arn = topic()
    gone_url, gone_arn = queue()
    dlq_url, dlq_arn = queue()
    sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=gone_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    sns.publish(TopicArn=arn, Message="warm")  # the plan is worked out, without a dead-letter queue
    assert _body(sqs, gone_url) == "warm"
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn})
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=redrive
    )
    sqs.delete_queue(QueueUrl=gone_url)
    sns.publish(TopicArn=arn, Message="refused")
    assert _body(sqs, dlq_url) == "refused"
