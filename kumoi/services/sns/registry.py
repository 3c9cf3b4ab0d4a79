"""Topics and subscriptions: kept in memory, written through to the metadata store.

SNS state is small and read on every publish (a topic's subscriptions, their filter policies),
so the service holds it in memory, loaded once from the store, and every change is written
durably before the request that made it is answered. Compiled filter policies live beside the
subscription they belong to. FIFO topics also get back their last sequence number and the
deduplication ids of the last five minutes.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kumoi.core.clock import Clock
from kumoi.services.sns.filter_policy import SCOPE_ATTRIBUTES, FilterPolicy, compile_policy
from kumoi.storage.meta.contract_sns import DedupEntry, SnsDocument, SnsRepository

if TYPE_CHECKING:
    from kumoi.services.sns.routes import Plan

TOPIC = "topic"
SUBSCRIPTION = "subscription"


@dataclass(eq=False)
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str] = field(default_factory=dict)
    confirmed: bool = False
    token: str = ""
    authenticated: bool = False
    filter: FilterPolicy | None = None

    def document(self) -> SnsDocument:
        doc = {
            "topic": self.topic_arn,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "owner": self.owner,
            "attributes": self.attributes,
            "confirmed": self.confirmed,
            "token": self.token,
            "authenticated": self.authenticated,
        }
        return SnsDocument(SUBSCRIPTION, self.arn, doc)

    @classmethod
    def from_document(cls, document: SnsDocument) -> Subscription:
        doc = document.doc
        subscription = cls(
            document.arn,
            doc["topic"],
            doc["protocol"],
            doc["endpoint"],
            doc["owner"],
            dict(doc["attributes"]),
            doc["confirmed"],
            doc["token"],
            doc.get("authenticated", False),
        )
        subscription.recompile()
        return subscription

    def recompile(self) -> None:
        """Refresh the compiled filter policy from the attributes (already validated)."""
        text = self.attributes.get("FilterPolicy")
        scope = self.attributes.get("FilterPolicyScope", SCOPE_ATTRIBUTES)
        self.filter = compile_policy(text, scope) if text else None

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"


@dataclass(eq=False)
class Topic:
    arn: str
    name: str
    account_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: This topic's subscriptions by ARN, in creation order.
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    deleted_subscriptions: int = 0
    #: FIFO only: the last sequence number given, and deduplication ids seen recently.
    sequence: int = 0
    dedup: dict[str, DedupEntry] = field(default_factory=dict)
    #: What publishes derive from the topic and its subscriptions (see ``routes.plan_of``);
    #: None until the next publish works it out again.
    plan: Plan | None = None

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic", "false").lower() == "true"

    def document(self) -> SnsDocument:
        doc: dict[str, Any] = {
            "name": self.name,
            "account": self.account_id,
            "attributes": self.attributes,
            "tags": self.tags,
            "deleted": self.deleted_subscriptions,
        }
        return SnsDocument(TOPIC, self.arn, doc)

    def replan(self) -> None:
        """Drop the plan: the topic or one of its subscriptions changed."""
        self.plan = None

    @classmethod
    def from_document(cls, document: SnsDocument) -> Topic:
        doc = document.doc
        return cls(
            document.arn,
            doc["name"],
            doc["account"],
            dict(doc["attributes"]),
            dict(doc["tags"]),
            deleted_subscriptions=doc.get("deleted", 0),
        )


class Registry:
    def __init__(self, repo: SnsRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._topic_order: list[str] = []
        self._subscription_order: list[str] = []
        self._loaded = False
        self._loading = asyncio.Lock()

    async def load(self) -> None:
        """Read the store once (the first request, or the drainer, whichever comes first)."""
        if self._loaded:
            return
        async with self._loading:
            if self._loaded:
                return
            documents = await self._repo.load()
            for document in documents:
                if document.kind == TOPIC:
                    self._add_topic(Topic.from_document(document))
            for document in documents:
                if document.kind == SUBSCRIPTION:
                    subscription = Subscription.from_document(document)
                    if subscription.topic_arn in self.topics:
                        self._add_subscription(subscription)
            for topic in self.topics.values():
                if topic.fifo:
                    topic.sequence = await self._repo.last_sequence(topic.arn)
                    for entry in await self._repo.recent_deduplication(topic.arn, self._clock.now()):
                        topic.dedup[entry.dedup_id] = entry
            self._loaded = True

    # -- topics ------------------------------------------------------------------------------

    async def put_topic(self, topic: Topic) -> None:
        topic.replan()
        await self._repo.apply([topic.document()])
        if topic.arn not in self.topics:
            self._add_topic(topic)

    async def delete_topic(self, topic: Topic) -> None:
        keys = [(SUBSCRIPTION, arn) for arn in topic.subscriptions]
        await self._repo.apply([], [(TOPIC, topic.arn), *keys])
        for arn in list(topic.subscriptions):
            self._drop_subscription(arn)
        if self.topics.pop(topic.arn, None) is not None:
            self._topic_order.pop(bisect.bisect_left(self._topic_order, topic.arn))

    def topics_after(self, marker: str) -> Iterator[Topic]:
        for arn in self._topic_order[bisect.bisect_right(self._topic_order, marker) :]:
            yield self.topics[arn]

    def _add_topic(self, topic: Topic) -> None:
        self.topics[topic.arn] = topic
        bisect.insort(self._topic_order, topic.arn)

    # -- subscriptions -----------------------------------------------------------------------

    async def put_subscription(self, subscription: Subscription) -> None:
        """Store a new or changed subscription (changed in place: its topic's plan is dropped
        before the write, so no publish meanwhile uses the old settings)."""
        self._replan(subscription.topic_arn)
        await self._repo.apply([subscription.document()])
        if subscription.arn not in self.subscriptions and subscription.topic_arn in self.topics:
            self._add_subscription(subscription)

    async def delete_subscription(self, subscription: Subscription) -> None:
        topic = self.topics.get(subscription.topic_arn)
        puts = []
        if topic is not None:
            topic.deleted_subscriptions += 1
            puts.append(topic.document())
        await self._repo.apply(puts, [(SUBSCRIPTION, subscription.arn)])
        self._drop_subscription(subscription.arn)

    def subscriptions_after(self, marker: str) -> Iterator[Subscription]:
        for arn in self._subscription_order[bisect.bisect_right(self._subscription_order, marker) :]:
            yield self.subscriptions[arn]

    def _add_subscription(self, subscription: Subscription) -> None:
        self.subscriptions[subscription.arn] = subscription
        topic = self.topics[subscription.topic_arn]
        topic.subscriptions[subscription.arn] = subscription
        topic.replan()
        bisect.insort(self._subscription_order, subscription.arn)

    def _drop_subscription(self, arn: str) -> None:
        subscription = self.subscriptions.pop(arn, None)
        if subscription is None:
            return
        topic = self.topics.get(subscription.topic_arn)
        if topic is not None:
            topic.subscriptions.pop(arn, None)
            topic.replan()
        self._subscription_order.pop(bisect.bisect_left(self._subscription_order, arn))

    def _replan(self, topic_arn: str) -> None:
        topic = self.topics.get(topic_arn)
        if topic is not None:
            topic.replan()

    def is_live(self, arn: str) -> bool:
        return arn in self.subscriptions
