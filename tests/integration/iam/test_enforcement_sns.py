"""SNS under enforcement: every operation is authorized action by action, and topic policies
(``Policy``, AddPermission/RemovePermission) are resource-based policies, as on AWS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.iam.conftest import Account, unique
from tests.integration.iam.test_enforcement import denied
from tests.support.access import policy_document
from tests.support.server import ServerProcess


@pytest.fixture
def owner(per_account: ServerProcess) -> Account:
    account = Account(per_account.endpoint)
    account.enforce()
    return account


def topic(account: Account, **kwargs: Any) -> str:
    arn: str = account.root("sns").create_topic(Name=unique("topic"), **kwargs)["TopicArn"]
    return arn


def test_a_user_with_only_publish_on_one_topic(owner: Account) -> None:
    allowed, other = topic(owner), topic(owner)
    key = owner.user(policy_document({"Effect": "Allow", "Action": "sns:Publish", "Resource": allowed}))
    sns = owner.client("sns", key)
    assert sns.publish(TopicArn=allowed, Message="hello")["MessageId"]
    sns.publish_batch(TopicArn=allowed, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])
    user_arn = f"arn:aws:iam::{owner.id}:user/"
    message = denied(sns.publish, TopicArn=other, Message="hello")
    assert message.startswith(f"User: {user_arn}")
    assert message.endswith(
        f"is not authorized to perform: sns:Publish on resource: {other} because no identity-based policy "
        "allows the sns:Publish action"
    )
    denied(sns.subscribe, TopicArn=allowed, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{owner.id}:q")
    denied(sns.get_topic_attributes, TopicArn=allowed)
    denied(sns.list_topics)
    denied(sns.create_topic, Name=unique("new"))
    denied(sns.delete_topic, TopicArn=allowed)


def test_cross_account_publish_needs_the_topic_policy(owner: Account, per_account: ServerProcess) -> None:
    arn = topic(owner)
    visitor = Account(per_account.endpoint)
    message = denied(visitor.root("sns").publish, TopicArn=arn, Message="hello")
    assert message == (
        f"User: arn:aws:iam::{visitor.id}:root is not authorized to perform: sns:Publish on resource: {arn} "
        "because no resource-based policy allows the sns:Publish action"
    )
    owner.root("sns").add_permission(
        TopicArn=arn, Label="visitor", AWSAccountId=[visitor.id], ActionName=["Publish"]
    )
    assert visitor.root("sns").publish(TopicArn=arn, Message="hello")["MessageId"]
    denied(visitor.root("sns").get_topic_attributes, TopicArn=arn)
    owner.root("sns").remove_permission(TopicArn=arn, Label="visitor")
    denied(visitor.root("sns").publish, TopicArn=arn, Message="hello")


def test_a_topic_policy_deny_wins(owner: Account) -> None:
    arn = topic(owner)
    key = owner.user(policy_document({"Effect": "Allow", "Action": "sns:*", "Resource": "*"}))
    sns = owner.client("sns", key)
    sns.publish(TopicArn=arn, Message="allowed")
    policy = policy_document(
        {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": arn},
    )
    owner.root("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    message = denied(sns.publish, TopicArn=arn, Message="denied")
    assert message.endswith("with an explicit deny in a resource-based policy")
    denied(owner.root("sns").publish, TopicArn=arn, Message="even root")


def test_a_same_account_topic_policy_grants_by_itself(owner: Account) -> None:
    arn = topic(owner)
    key = owner.user()
    user = owner.client("sns", key)
    denied(user.publish, TopicArn=arn, Message="no policy yet")
    name = owner.client("sts", key).get_caller_identity()["Arn"]
    policy = policy_document(
        {"Effect": "Allow", "Principal": {"AWS": name}, "Action": "sns:Publish", "Resource": arn}
    )
    owner.root("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    user.publish(TopicArn=arn, Message="granted by the topic policy")


def test_subscribe_protocol_and_endpoint_keys(owner: Account) -> None:
    arn = topic(owner)
    queue = f"arn:aws:sqs:us-east-1:{owner.id}:{unique('q')}"
    owner.root("sqs").create_queue(QueueName=queue.rsplit(":", 1)[1])
    key = owner.user(
        policy_document(
            {
                "Effect": "Allow",
                "Action": "sns:Subscribe",
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"sns:Protocol": "sqs"},
                    "StringLike": {"sns:Endpoint": f"arn:aws:sqs:*:{owner.id}:*"},
                },
            }
        )
    )
    sns = owner.client("sns", key)
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"].startswith(arn)
    denied(sns.subscribe, TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
    denied(sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:222222222222:q")


def test_request_and_resource_tags(owner: Account) -> None:
    key = owner.user(
        policy_document(
            {
                "Effect": "Allow",
                "Action": ["sns:CreateTopic", "sns:TagResource"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}},
            },
            {
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}},
            },
        )
    )
    sns = owner.client("sns", key)
    sns.create_topic(Name=unique("tagged"), Tags=[{"Key": "team", "Value": "blue"}])
    denied(sns.create_topic, Name=unique("untagged"))
    denied(sns.create_topic, Name=unique("red"), Tags=[{"Key": "team", "Value": "red"}])
    dev, prod = topic(owner, Tags=[{"Key": "env", "Value": "dev"}]), topic(owner)
    sns.publish(TopicArn=dev, Message="dev")
    denied(sns.publish, TopicArn=prod, Message="prod")
