"""Deliveries between services where the destination's account is enforced: the queue or topic
policy must let the delivering service (``sns.amazonaws.com``, ``s3.amazonaws.com``) send for
that source (``aws:SourceArn``, ``aws:SourceAccount``), as on AWS, also within one account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Account, unique
from tests.support.access import policy_document
from tests.support.server import ServerProcess

#: Long enough for a delivery that was going to happen to have happened.
SETTLE_SECONDS = 1


@pytest.fixture
def owner(per_account: ServerProcess) -> Account:
    account = Account(per_account.endpoint)
    account.enforce()
    return account


def make_queue(account: Account) -> tuple[str, str]:
    sqs = account.root("sqs")
    url: str = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def allow_service(
    account: Account, url: str, queue_arn: str, service: str, condition: dict[str, Any]
) -> None:
    policy = policy_document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": condition,
        }
    )
    account.root("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})


def bodies(account: Account, url: str, wait: int) -> list[str]:
    found = account.root("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    return [message["Body"] for message in found.get("Messages", [])]


def subscribe_raw(account: Account, topic_arn: str, queue_arn: str) -> None:
    account.root("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )


def test_sns_to_sqs_needs_the_queue_policy_even_in_one_account(owner: Account) -> None:
    topic = owner.root("sns").create_topic(Name=unique("t"))["TopicArn"]
    other_topic = owner.root("sns").create_topic(Name=unique("other"))["TopicArn"]
    url, queue_arn = make_queue(owner)
    subscribe_raw(owner, topic, queue_arn)
    owner.root("sns").publish(TopicArn=topic, Message="dropped")
    assert bodies(owner, url, SETTLE_SECONDS) == []

    allow_service(owner, url, queue_arn, "sns.amazonaws.com", {"ArnEquals": {"aws:SourceArn": other_topic}})
    owner.root("sns").publish(TopicArn=topic, Message="wrong source")
    assert bodies(owner, url, SETTLE_SECONDS) == []

    allow_service(owner, url, queue_arn, "sns.amazonaws.com", {"ArnEquals": {"aws:SourceArn": topic}})
    owner.root("sns").publish(TopicArn=topic, Message="delivered")
    assert bodies(owner, url, 5) == ["delivered"]


def test_a_denied_sns_delivery_goes_to_the_dead_letter_queue(owner: Account) -> None:
    topic = owner.root("sns").create_topic(Name=unique("t"))["TopicArn"]
    url, queue_arn = make_queue(owner)
    dlq_url, dlq_arn = make_queue(owner)
    allow_service(owner, dlq_url, dlq_arn, "sns.amazonaws.com", {"ArnEquals": {"aws:SourceArn": topic}})
    owner.root("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
        },
    )
    owner.root("sns").publish(TopicArn=topic, Message="redriven")
    assert bodies(owner, dlq_url, 5) == ["redriven"]
    assert bodies(owner, url, 0) == []


def test_sns_from_another_account_with_a_star_principal(owner: Account, per_account: ServerProcess) -> None:
    publisher = Account(per_account.endpoint)
    topic = publisher.root("sns").create_topic(Name=unique("t"))["TopicArn"]
    url, queue_arn = make_queue(owner)
    policy = policy_document(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": topic},
                "StringEquals": {"aws:SourceAccount": publisher.id},
            },
        }
    )
    owner.root("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    subscribe_raw(publisher, topic, queue_arn)
    publisher.root("sns").publish(TopicArn=topic, Message="across accounts")
    assert bodies(owner, url, 5) == ["across accounts"]


def test_unenforced_destinations_need_no_policy(per_account: ServerProcess) -> None:
    account = Account(per_account.endpoint)
    topic = account.root("sns").create_topic(Name=unique("t"))["TopicArn"]
    url, queue_arn = make_queue(account)
    subscribe_raw(account, topic, queue_arn)
    account.root("sns").publish(TopicArn=topic, Message="as before")
    assert bodies(account, url, 5) == ["as before"]


def notification(kind: str, arn: str) -> dict[str, Any]:
    member = "QueueArn" if kind == "QueueConfigurations" else "TopicArn"
    return {kind: [{member: arn, "Events": ["s3:ObjectCreated:*"]}]}


def test_s3_events_to_a_queue(owner: Account) -> None:
    s3 = owner.root("s3")
    bucket = unique("events")
    s3.create_bucket(Bucket=bucket)
    url, queue_arn = make_queue(owner)
    config = notification("QueueConfigurations", queue_arn)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument",
        "Unable to validate the following destination configurations",
    )

    condition = {
        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
        "StringEquals": {"aws:SourceAccount": owner.id},
    }
    allow_service(owner, url, queue_arn, "s3.amazonaws.com", condition)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert [json.loads(body)["Event"] for body in bodies(owner, url, 5)] == ["s3:TestEvent"]
    s3.put_object(Bucket=bucket, Key="first", Body=b"1")
    (event,) = [json.loads(body) for body in bodies(owner, url, 5)]
    assert event["Records"][0]["s3"]["object"]["key"] == "first"

    owner.root("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    s3.put_object(Bucket=bucket, Key="second", Body=b"2")
    assert bodies(owner, url, SETTLE_SECONDS) == []


def test_s3_events_to_a_topic(owner: Account) -> None:
    s3 = owner.root("s3")
    bucket = unique("events")
    s3.create_bucket(Bucket=bucket)
    topic = owner.root("sns").create_topic(Name=unique("t"))["TopicArn"]
    config = notification("TopicConfigurations", topic)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    policy = policy_document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": topic,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"}},
        }
    )
    owner.root("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
