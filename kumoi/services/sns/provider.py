"""The SNS provider: topics, subscriptions and publishing, on the query protocol.

Topics and subscriptions live in :class:`~kumoi.services.sns.registry.Registry` (memory, written
through). A publish follows its topic's plan (:mod:`~kumoi.services.sns.routes`: worked out once
per change of the topic or its subscriptions), renders one delivery per matching subscription and
makes them durable before it is answered: a standard topic's SQS deliveries are stored in their
queues at once, the others in the outbox, in the transaction that acknowledges the publish;
:class:`~kumoi.services.sns.outbox.Outbox` then delivers those (see there for the durability
argument).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.delivery import DeliverySource, OutgoingMessage, QueueDelivery
from kumoi.core.errors import ServiceError
from kumoi.core.ids import unique_uuid
from kumoi.services.sns import api, envelope, publishing
from kumoi.services.sns import attributes as sns_attributes
from kumoi.services.sns.names import (
    FIFO_SUFFIX,
    check_arn,
    check_topic_name,
    invalid,
    topic_arn,
    topic_not_found,
)
from kumoi.services.sns.outbox import Outbox
from kumoi.services.sns.publishing import Publication
from kumoi.services.sns.registry import Registry, Topic
from kumoi.services.sns.routes import Plan, Route, plan_of
from kumoi.services.sns.signing import Signer
from kumoi.services.sns.subscribing import Subscriptions
from kumoi.storage.meta.contract_sns import DedupEntry, OutboxRow, SnsRepository

log = logging.getLogger("kumoi.sns")

#: Page sizes of ListTopics and ListSubscriptions(ByTopic), as in AWS.
TOPICS_PAGE = 100
SUBSCRIPTIONS_PAGE = 100
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_BATCH_ENTRIES = 10
MAX_BATCH_ID = 80
#: AWS answers this for the ARN of a subscription awaiting confirmation.
PENDING = "pending confirmation"
_BATCH_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")

#: A delivery stored in its queue at once: its route, its publication and the message.
_Direct = tuple[Route, Publication, OutgoingMessage]


class SnsProvider(Subscriptions):
    def __init__(self, repo: SnsRepository, queues: QueueDelivery, clock: Clock, signer: Signer) -> None:
        registry = Registry(repo, clock)
        outbox = Outbox(repo, queues, registry.is_live, clock)
        super().__init__(registry, outbox, repo, clock, signer)

    # -- the background drainer and the certificate --------------------------------------------

    async def drain(self) -> None:
        """Deliver outbox rows until cancelled (a long-lived service task)."""
        await self._registry.load()
        await self._outbox.run()

    def certificate(self) -> bytes:
        """The PEM certificate receivers verify signatures with."""
        return self._signer.certificate_pem

    async def find_topic(self, arn: str) -> Topic | None:
        """The topic ``arn`` names, if it exists (read by the authorizer for topic policies)."""
        await self._registry.load()
        return self._registry.topics.get(arn)

    # -- topics ----------------------------------------------------------------------------------

    async def create_topic(
        self, ctx: RequestContext, request: api.CreateTopicInput
    ) -> api.CreateTopicResponse:
        await self._registry.load()
        name = request["Name"]
        given = dict(request.get("Attributes") or {})
        fifo = given.get("FifoTopic", "false").lower() == "true" or (
            name.endswith(FIFO_SUFFIX) and "FifoTopic" not in given
        )
        if name.endswith(FIFO_SUFFIX) and not fifo:
            raise invalid("Topic Name")
        check_topic_name(name, fifo)
        if fifo:
            given["FifoTopic"] = "true"
        stored = {
            key: sns_attributes.check_topic_attribute(key, value, fifo, creating=True)
            for key, value in given.items()
        }
        tags = _tag_map(request.get("Tags") or [])
        arn = topic_arn(ctx.region, ctx.account_id, name)
        existing = self._registry.topics.get(arn)
        if existing is not None:
            if any(existing.attributes.get(key, _default_for(key)) != value for key, value in stored.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if tags and any(existing.tags.get(key) != value for key, value in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        await self._registry.put_topic(Topic(arn, name, ctx.account_id, stored, tags))
        return {"TopicArn": arn}

    async def delete_topic(self, ctx: RequestContext, request: api.DeleteTopicInput) -> None:
        await self._registry.load()
        check_arn(request["TopicArn"], "TopicArn")
        topic = self._registry.topics.get(request["TopicArn"])
        if topic is not None:
            await self._registry.delete_topic(topic)

    async def list_topics(self, ctx: RequestContext, request: api.ListTopicsInput) -> api.ListTopicsResponse:
        await self._registry.load()
        marker = _marker(request.get("NextToken"))
        page: list[api.Topic] = []
        for topic in self._registry.topics_after(marker):
            if topic.account_id != ctx.account_id or not topic.arn.startswith(f"arn:aws:sns:{ctx.region}:"):
                continue
            if len(page) == TOPICS_PAGE:
                return {"Topics": page, "NextToken": page[-1]["TopicArn"]}
            page.append({"TopicArn": topic.arn})
        return {"Topics": page}

    async def get_topic_attributes(
        self, ctx: RequestContext, request: api.GetTopicAttributesInput
    ) -> api.GetTopicAttributesResponse:
        topic = await self._topic(request["TopicArn"])
        return {"Attributes": sns_attributes.topic_attributes(topic)}

    async def set_topic_attributes(self, ctx: RequestContext, request: api.SetTopicAttributesInput) -> None:
        topic = await self._topic(request["TopicArn"])
        name, value = request["AttributeName"], request.get("AttributeValue", "")
        topic.attributes[name] = sns_attributes.check_topic_attribute(name, value, topic.fifo, creating=False)
        await self._registry.put_topic(topic)

    async def add_permission(self, ctx: RequestContext, request: api.AddPermissionInput) -> None:
        topic = await self._topic(request["TopicArn"])
        label = request["Label"]
        policy = json.loads(sns_attributes.topic_attributes(topic)["Policy"])
        statements = policy.setdefault("Statement", [])
        if any(statement.get("Sid") == label for statement in statements):
            raise invalid("Statement already exists")
        if not request["AWSAccountId"] or not request["ActionName"]:
            raise invalid("AWSAccountId and ActionName must not be empty")
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in request["AWSAccountId"]]},
                "Action": [f"SNS:{action}" for action in request["ActionName"]],
                "Resource": topic.arn,
            }
        )
        topic.attributes["Policy"] = json.dumps(policy)
        await self._registry.put_topic(topic)

    async def remove_permission(self, ctx: RequestContext, request: api.RemovePermissionInput) -> None:
        topic = await self._topic(request["TopicArn"])
        policy = json.loads(sns_attributes.topic_attributes(topic)["Policy"])
        statements = policy.get("Statement", [])
        kept = [statement for statement in statements if statement.get("Sid") != request["Label"]]
        if len(kept) != len(statements):
            policy["Statement"] = kept
            topic.attributes["Policy"] = json.dumps(policy)
            await self._registry.put_topic(topic)

    # -- tags ------------------------------------------------------------------------------------

    async def _tagged(self, arn: str) -> Topic:
        await self._registry.load()
        topic = self._registry.topics.get(arn)
        if topic is None:
            raise api.ResourceNotFoundException("Resource does not exist")
        return topic

    async def tag_resource(
        self, ctx: RequestContext, request: api.TagResourceRequest
    ) -> api.TagResourceResponse:
        topic = await self._tagged(request["ResourceArn"])
        merged = {**topic.tags, **_tag_map(request["Tags"])}
        if len(merged) > MAX_TAGS:
            raise api.TagLimitExceededException(
                "Could not complete request: tag quota of per resource exceeded"
            )
        topic.tags = merged
        await self._registry.put_topic(topic)
        return {}

    async def untag_resource(
        self, ctx: RequestContext, request: api.UntagResourceRequest
    ) -> api.UntagResourceResponse:
        topic = await self._tagged(request["ResourceArn"])
        topic.tags = {key: value for key, value in topic.tags.items() if key not in set(request["TagKeys"])}
        await self._registry.put_topic(topic)
        return {}

    async def list_tags_for_resource(
        self, ctx: RequestContext, request: api.ListTagsForResourceRequest
    ) -> api.ListTagsForResourceResponse:
        topic = await self._tagged(request["ResourceArn"])
        return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(topic.tags.items())]}

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, ctx: RequestContext, request: api.PublishInput) -> api.PublishResponse:
        await self._registry.load()
        arn = request.get("TopicArn") or request.get("TargetArn")
        if arn is None:
            if request.get("PhoneNumber"):
                publishing.check_message(None, None, request)
                message_id = unique_uuid()
                log.info("SNS sms to %s: %r", request["PhoneNumber"], request["Message"])
                return {"MessageId": message_id}
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        check_arn(arn, "TopicArn" if "TopicArn" in request else "TargetArn")
        topic = self._registry.topics.get(arn)
        if topic is None:
            raise topic_not_found()
        structured = publishing.check_message(topic, plan_of(topic), request)
        (result,) = await self._publish(ctx.base_url, topic, [(dict(request), structured)])
        return result  # type: ignore[return-value]

    async def publish_to_topic(
        self,
        topic_arn: str,
        message: str,
        subject: str | None,
        base_url: str,
        *,
        source: DeliverySource | None = None,
    ) -> str:
        """:class:`~kumoi.core.delivery.TopicDelivery`: another service (S3 event notifications)
        publishes (the composition root checks the topic policy against ``source`` first)."""
        await self._registry.load()
        topic = self._registry.topics.get(topic_arn)
        if topic is None:
            raise topic_not_found()
        if topic.fifo:
            raise invalid("TopicArn Reason: FIFO topics need a message group id")
        entry: dict[str, Any] = {"Message": message}
        if subject is not None:
            entry["Subject"] = subject
        (result,) = await self._publish(base_url, topic, [(entry, None)])
        return result["MessageId"]

    async def publish_batch(
        self, ctx: RequestContext, request: api.PublishBatchInput
    ) -> api.PublishBatchResponse:
        topic = await self._topic(request["TopicArn"])
        entries = request["PublishBatchRequestEntries"]
        if not entries:
            raise api.EmptyBatchRequestException("The batch request doesn't contain any entries")
        if len(entries) > MAX_BATCH_ENTRIES:
            raise api.TooManyEntriesInBatchRequestException(
                "The batch request contains more entries than permissible."
            )
        ids = [entry["Id"] for entry in entries]
        if len(set(ids)) != len(ids):
            raise api.BatchEntryIdsNotDistinctException(
                "Two or more batch entries in the request have the same Id."
            )
        for entry_id in ids:
            if not entry_id or len(entry_id) > MAX_BATCH_ID or not set(entry_id) <= _BATCH_ID_CHARS:
                raise api.InvalidBatchEntryIdException(
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                    "It can be at most 80 letters long."
                )
        plan = plan_of(topic)
        total = sum(len(entry["Message"].encode("utf-8")) for entry in entries)
        if total > plan.max_message_size:
            raise api.BatchRequestTooLongException(
                "The length of all the messages put together is more than the limit."
            )
        accepted: list[tuple[dict[str, Any], dict[str, str] | None]] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in entries:
            try:
                accepted.append((dict(entry), publishing.check_message(topic, plan, entry)))
            except api.SnsError as error:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": "InvalidParameter",
                        "Message": error.message,
                        "SenderFault": True,
                    }
                )
        results = await self._publish(ctx.base_url, topic, accepted) if accepted else []
        successful: list[api.PublishBatchResultEntry] = [
            {"Id": entry["Id"], **result}  # type: ignore[typeddict-item]
            for (entry, _structured), result in zip(accepted, results, strict=True)
        ]
        return {"Successful": successful, "Failed": failed}

    async def _publish(
        self, base_url: str, topic: Topic, entries: list[tuple[dict[str, Any], dict[str, str] | None]]
    ) -> list[dict[str, str]]:
        """Store the deliveries of ``entries`` (validated) durably; return their results.
        ``base_url`` is kumoi's endpoint as the publisher saw it (for the envelope's links)."""
        now = self._clock.now()
        plan = plan_of(topic)
        links = envelope.Links(base_url)
        results: list[dict[str, str]] = []
        rows: list[OutboxRow] = []
        direct: dict[str, list[_Direct]] = {}
        fresh_dedup: list[DedupEntry] = []
        expired = plan.fifo and _expire_dedup(topic, now)
        for entry, structured in entries:
            publication = Publication(
                message_id=unique_uuid(),
                message=entry["Message"],
                structured=structured,
                subject=entry.get("Subject"),
                attributes=dict(entry.get("MessageAttributes") or {}),
                published_at=now,
            )
            if plan.fifo:
                dedup = publishing.deduplication_id(entry)
                seen = topic.dedup.get(dedup)
                if seen is not None:
                    results.append({"MessageId": seen.message_id, "SequenceNumber": seen.sequence_number})
                    continue
                topic.sequence += 1
                publication.group_id = entry["MessageGroupId"]
                publication.dedup_id = dedup
                publication.sequence_number = f"{10**19 + topic.sequence:020d}"
                remembered = DedupEntry(
                    dedup,
                    now + publishing.DEDUP_WINDOW_SECONDS,
                    publication.message_id,
                    publication.sequence_number,
                )
                topic.dedup[dedup] = remembered
                fresh_dedup.append(remembered)
                results.append(
                    {"MessageId": publication.message_id, "SequenceNumber": publication.sequence_number}
                )
            else:
                results.append({"MessageId": publication.message_id})
            for route in plan.routes:
                if route.filter is not None and not publishing.matches(route, publication):
                    continue
                if route.direct:
                    message = publishing.direct_message(topic, plan, route, publication, links, self._signer)
                    queued = direct.get(route.subscription.endpoint)
                    if queued is None:
                        queued = direct[route.subscription.endpoint] = []
                    queued.append((route, publication, message))
                else:
                    payload = publishing.render(topic, plan, route, publication, links, self._signer)
                    if payload is not None:
                        rows.append(OutboxRow(route.subscription.arn, payload))
        if plan.fifo:
            if rows or fresh_dedup:
                try:
                    await self._repo.publish(
                        topic.arn, topic.sequence, rows, fresh_dedup, now if expired else None
                    )
                except BaseException:
                    for fresh in fresh_dedup:
                        topic.dedup.pop(fresh.dedup_id, None)
                    raise
                self._outbox.submit(rows)
        elif direct or rows:
            await self._deliver(topic, plan, direct, rows)
        return results

    async def _deliver(
        self, topic: Topic, plan: Plan, direct: dict[str, list[_Direct]], later: list[OutboxRow]
    ) -> None:
        """Make a standard topic's deliveries durable before the publish is answered: SQS ones
        are stored in their queues at once (no outbox row to write, read and delete), together
        with the outbox rows of the others; the deliveries a queue refused go to the outbox too,
        which retries them and dead-letters them as usual. (A FIFO topic's deliveries all go
        through the outbox, which hands each queue its messages in sequence order.)"""
        stores = [
            (batch, self._outbox.deliver_now(plan.sender, queue, [message for _r, _p, message in batch]))
            for queue, batch in direct.items()
        ]
        if later:
            refused, _ids = await asyncio.gather(_refused(stores), self._repo.publish(topic.arn, None, later))
        else:
            refused = await _refused(stores)
        if refused:
            await self._repo.publish(topic.arn, None, refused)
        if later or refused:
            self._outbox.submit([*later, *refused])


async def _refused(stores: list[tuple[list[_Direct], asyncio.Future[None]]]) -> list[OutboxRow]:
    """Wait until the queues stored the direct deliveries; return the outbox rows of those a queue
    refused."""
    refused: list[OutboxRow] = []
    for batch, stored in stores:
        try:
            await stored
        except ServiceError:
            refused += [
                OutboxRow(route.subscription.arn, publishing.sqs_payload(route, publication, message.body))
                for route, publication, message in batch
            ]
    return refused


def _expire_dedup(topic: Topic, now: float) -> bool:
    """Forget deduplication ids older than the window (kept in insertion, hence expiry, order);
    return whether there were any."""
    expired = False
    while topic.dedup:
        oldest = next(iter(topic.dedup.values()))
        if oldest.expires > now:
            break
        del topic.dedup[oldest.dedup_id]
        expired = True
    return expired


def _default_for(name: str) -> str:
    return {"FifoTopic": "false", "ContentBasedDeduplication": "false", "DisplayName": ""}.get(name, "")


def _marker(token: str | None) -> str:
    return token or ""


def _tag_map(tags: list[api.Tag]) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if not 1 <= len(key) <= MAX_TAG_KEY or key.startswith("aws:"):
            raise invalid("Tags Reason: tag key is invalid")
        if len(value) > MAX_TAG_VALUE:
            raise invalid("Tags Reason: tag value is invalid")
        result[key] = value
    if len(result) > MAX_TAGS:
        raise api.TagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
    return result
