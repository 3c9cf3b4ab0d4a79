"""Subscriptions through boto3: protocols, confirmation, listing, attributes, and their errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sns.conftest import aws_error


def test_subscribe_protocols(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    _url, queue_arn = queue()
    sqs_sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert sqs_sub.startswith(arn + ":")
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"] == sqs_sub
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"] == (
        "pending confirmation"
    )
    email = sns.subscribe(
        TopicArn=arn, Protocol="email-json", Endpoint="b@example.com", ReturnSubscriptionArn=True
    )
    assert email["SubscriptionArn"].startswith(arn + ":")
    sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint="+15555550100")
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:handler"
    assert sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=lambda_arn)["SubscriptionArn"].startswith(
        arn
    )
    application = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/0123"
    assert sns.subscribe(TopicArn=arn, Protocol="application", Endpoint=application)["SubscriptionArn"] != (
        "pending confirmation"
    )
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert {s["Protocol"] for s in listed} == {"sqs", "email", "email-json", "sms", "lambda", "application"}
    pending = [s for s in listed if s["Protocol"] == "email"]
    assert pending[0]["SubscriptionArn"] == "pending confirmation"
    everything = sns.list_subscriptions()["Subscriptions"]
    assert sqs_sub in [s["SubscriptionArn"] for s in everything]
    attributes = sns.get_subscription_attributes(SubscriptionArn=email["SubscriptionArn"])["Attributes"]
    assert attributes["PendingConfirmation"] == "true" and attributes["Protocol"] == "email-json"


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("carrier-pigeon", "coop"),
        ("http", "https://example.com/"),
        ("https", "ftp://example.com/"),
        ("sqs", "not-an-arn"),
        ("email", "no-at-sign"),
        ("lambda", "arn:aws:sqs:us-east-1:000000000000:q"),
    ],
)
def test_subscribe_rejects_bad_endpoints(
    sns: Any, topic: Callable[..., str], protocol: str, endpoint: str
) -> None:
    with aws_error("InvalidParameter"):
        sns.subscribe(TopicArn=topic(), Protocol=protocol, Endpoint=endpoint)


def test_subscribe_errors(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    _url, queue_arn = queue()
    _fifo_url, fifo_queue_arn = queue(fifo=True)
    with aws_error("NotFound", 404):
        sns.subscribe(TopicArn=arn + "-missing", Protocol="sqs", Endpoint=queue_arn)
    with aws_error("InvalidParameter"):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=fifo_queue_arn)
    with aws_error("InvalidParameter"):
        sns.subscribe(TopicArn=topic(fifo=True), Protocol="sqs", Endpoint=queue_arn)
    with aws_error("InvalidParameter"):
        sns.subscribe(
            TopicArn=arn,
            Protocol="email",
            Endpoint="a@example.com",
            Attributes={"RawMessageDelivery": "true"},
        )
    with aws_error("InvalidParameter"):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"Unknown": "1"})
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    with aws_error("InvalidParameter") as error:
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"}
        )
    assert "already exists with different attributes" in error.message


def test_subscription_attributes(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    arn = topic()
    _url, queue_arn = queue()
    _dlq_url, dlq_arn = queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "false" and attributes["PendingConfirmation"] == "false"
    assert attributes["Endpoint"] == queue_arn and attributes["TopicArn"] == arn
    policy = json.dumps({"color": ["red"]})
    for name, value in (
        ("RawMessageDelivery", "true"),
        ("FilterPolicy", policy),
        ("RedrivePolicy", json.dumps({"deadLetterTargetArn": dlq_arn})),
    ):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=name, AttributeValue=value)
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true" and attributes["FilterPolicy"] == policy
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="Bogus", AttributeValue="1")
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="yes"
        )
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="Body"
        )
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue="{}"
        )
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue="{}"
        )
    with aws_error("NotFound", 404):
        sns.get_subscription_attributes(SubscriptionArn=sub + "0")
    with aws_error("InvalidParameter"):
        sns.get_subscription_attributes(SubscriptionArn="garbage")


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ("{not json", "failed to parse JSON."),
        (json.dumps({"a": "b"}), '"a" must be an object or an array'),
        (json.dumps({"a": []}), "Empty arrays are not allowed"),
        (json.dumps({"a": [{"prefixx": "x"}]}), "Unrecognized match type prefixx"),
        (json.dumps({"a": [{"prefix": 1}]}), "prefix match pattern must be a string"),
        (json.dumps({"a": [{"exists": "yes"}]}), "exists match pattern must be either true or false."),
        (json.dumps({"a": [{"numeric": [">", "x"]}]}), "Value of > must be numeric"),
        (json.dumps({"a": [{"numeric": ["~", 1]}]}), "Unrecognized numeric range operator: ~"),
        (json.dumps({"a": [{"cidr": "10.0.0.1"}]}), "Malformed CIDR, one '/' required"),
        (json.dumps({"a": [[1]]}), "Match value must be String, number, true, false, or null"),
        (
            json.dumps({"a": {"b": ["c"]}}),
            "Filter policy scope MessageAttributes does not support nested filter policy",
        ),
        (json.dumps({k: ["v"] for k in "abcdef"}), "Filter policy can not have more than 5 keys"),
        (json.dumps({"a": list(range(11)), "b": list(range(14))}), "Filter policy is too complex"),
    ],
)
def test_filter_policy_validation_messages(
    sns: Any, topic: Callable[..., str], queue: Any, policy: str, reason: str
) -> None:
    _url, queue_arn = queue()
    sub = sns.subscribe(TopicArn=topic(), Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    with aws_error("InvalidParameter") as error:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy
        )
    assert error.message == f"Invalid parameter: FilterPolicy: {reason}"


def test_nested_policy_needs_message_body_scope(sns: Any, topic: Callable[..., str], queue: Any) -> None:
    _url, queue_arn = queue()
    nested = json.dumps({"order": {"kind": ["book"]}})
    sub = sns.subscribe(
        TopicArn=topic(),
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicyScope": "MessageBody", "FilterPolicy": nested},
    )["SubscriptionArn"]
    with aws_error("InvalidParameter"):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes"
        )


def test_unsubscribe_and_confirm(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    sub = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="c@example.com", ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    with aws_error("InvalidParameter"):
        sns.confirm_subscription(TopicArn=arn, Token="wrong")
    with aws_error("NotFound", 404):
        sns.confirm_subscription(TopicArn=arn + "-missing", Token="wrong")
    sns.unsubscribe(SubscriptionArn=sub)
    with aws_error("NotFound", 404):
        sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def test_list_subscriptions_by_topic_paginates(sns: Any, topic: Callable[..., str]) -> None:
    arn = topic()
    for i in range(105):
        sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint=f"+1555{i:07d}")
    first = sns.list_subscriptions_by_topic(TopicArn=arn)
    assert len(first["Subscriptions"]) == 100 and first["NextToken"]
    second = sns.list_subscriptions_by_topic(TopicArn=arn, NextToken=first["NextToken"])
    assert len(second["Subscriptions"]) == 5 and "NextToken" not in second
    endpoints = {s["Endpoint"] for s in first["Subscriptions"] + second["Subscriptions"]}
    assert len(endpoints) == 105
