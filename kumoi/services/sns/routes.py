"""A topic's delivery plan: what every publish needs to know of the topic and its subscriptions.

A topic's settings and subscriptions change rarely and are read by every publish, so what a
publish derives from them (the confirmed subscriptions, whether each is raw, its filter policy
and dead-letter queue, the topic's size limit and signature version) is worked out once and kept
on the topic (``Topic.plan``) until the registry changes the topic or one of its subscriptions,
which drops it (:meth:`~kumoi.services.sns.registry.Topic.replan`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kumoi.core.delivery import DeliverySource
from kumoi.services.sns import attributes as sns_attributes
from kumoi.services.sns.filter_policy import FilterPolicy

if TYPE_CHECKING:
    from kumoi.services.sns.registry import Subscription, Topic

#: Who delivers, as queue policies name it.
SERVICE_PRINCIPAL = "sns.amazonaws.com"


def source(topic_arn: str) -> DeliverySource:
    """SNS delivering for ``topic_arn``, as the queue's policy sees it."""
    return DeliverySource(SERVICE_PRINCIPAL, topic_arn, topic_arn.split(":")[4])


def dead_letter_target(subscription: Subscription) -> str | None:
    """The dead-letter queue of ``subscription``'s RedrivePolicy, if it has one."""
    text = subscription.attributes.get("RedrivePolicy")
    if not text:
        return None
    target = json.loads(text).get("deadLetterTargetArn")
    return str(target) if target else None


@dataclass(frozen=True, slots=True)
class Route:
    """One confirmed subscription, as publishes see it. ``direct``: a standard topic's SQS
    delivery, stored in its queue before the publish is answered (the others go through the
    outbox)."""

    subscription: Subscription
    protocol: str
    raw: bool
    filter: FilterPolicy | None
    dead_letter: str | None
    direct: bool

    @classmethod
    def of(cls, subscription: Subscription, fifo: bool) -> Route:
        return cls(
            subscription,
            subscription.protocol,
            subscription.raw,
            subscription.filter,
            dead_letter_target(subscription),
            direct=subscription.protocol == "sqs" and not fifo,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A topic as publishes see it: its settings and the routes of its confirmed subscriptions,
    in subscription order."""

    fifo: bool
    max_message_size: int
    signature_version: str
    sender: DeliverySource
    routes: tuple[Route, ...]


def plan_of(topic: Topic) -> Plan:
    """``topic``'s plan, kept on the topic until the registry drops it."""
    plan = topic.plan
    if plan is None:
        fifo = topic.fifo
        plan = topic.plan = Plan(
            fifo,
            sns_attributes.max_message_size(topic),
            topic.attributes.get("SignatureVersion", "1"),
            source(topic.arn),
            tuple(Route.of(s, fifo) for s in topic.subscriptions.values() if s.confirmed),
        )
    return plan
