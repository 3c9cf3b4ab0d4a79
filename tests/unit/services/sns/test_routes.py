"""A topic's plan: what publishes derive from the topic and its confirmed subscriptions, kept
until the topic or a subscription changes."""

from __future__ import annotations

import json

from kumoi.services.sns.registry import Subscription, Topic
from kumoi.services.sns.routes import SERVICE_PRINCIPAL, plan_of

TOPIC = "arn:aws:sns:us-east-1:123456789012:t"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"


def _subscription(
    name: str, protocol: str = "sqs", confirmed: bool = True, **attributes: str
) -> Subscription:
    subscription = Subscription(
        f"{TOPIC}:{name}", TOPIC, protocol, QUEUE, "123456789012", dict(attributes), confirmed
    )
    subscription.recompile()
    return subscription


def _topic(*subscriptions: Subscription, **attributes: str) -> Topic:
    topic = Topic(TOPIC, "t", "123456789012", dict(attributes))
    topic.subscriptions = {subscription.arn: subscription for subscription in subscriptions}
    return topic


def test_plan_describes_the_topic_and_its_confirmed_subscriptions() -> None:
    plain = _subscription("plain")
    raw = _subscription(
        "raw",
        RawMessageDelivery="true",
        FilterPolicy=json.dumps({"color": ["red"]}),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": DLQ}),
    )
    web = _subscription("web", protocol="https")
    pending = _subscription("pending", protocol="https", confirmed=False)
    plan = plan_of(_topic(plain, raw, web, pending, MaximumMessageSize="1024", SignatureVersion="2"))
    assert (plan.fifo, plan.max_message_size, plan.signature_version) == (False, 1024, "2")
    assert plan.sender.service_principal == SERVICE_PRINCIPAL
    assert (plan.sender.source_arn, plan.sender.source_account) == (TOPIC, "123456789012")
    assert [route.subscription for route in plan.routes] == [plain, raw, web]
    first, second, third = plan.routes
    assert (first.raw, first.filter, first.dead_letter, first.direct) == (False, None, None, True)
    assert (second.raw, second.dead_letter, second.direct) == (True, DLQ, True)
    assert second.filter is not None and second.filter.matches_attributes(
        {"color": {"DataType": "String", "StringValue": "red"}}
    )
    assert (third.protocol, third.direct) == ("https", False)


def test_fifo_topics_deliver_nothing_directly() -> None:
    plan = plan_of(_topic(_subscription("q"), FifoTopic="true"))
    assert plan.fifo and not plan.routes[0].direct


def test_plan_is_kept_until_replanned() -> None:
    subscription = _subscription("q")
    topic = _topic(subscription)
    plan = plan_of(topic)
    subscription.attributes["RawMessageDelivery"] = "true"
    assert plan_of(topic) is plan
    topic.replan()
    replanned = plan_of(topic)
    assert replanned is not plan and replanned.routes[0].raw
