"""Subscriptions: Subscribe, the confirmation handshake, Unsubscribe, listings and attributes.

SQS, Lambda and application subscriptions of the topic's account are confirmed at once, as in
AWS. HTTP/HTTPS subscriptions start pending: kumoi POSTs a signed ``SubscriptionConfirmation``
(through the outbox, so it is retried like any delivery) whose ``SubscribeURL`` calls
ConfirmSubscription with the token. Email and SMS subscriptions stay pending until confirmed
with their token, which kumoi logs (it sends no mail).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.ids import unique_uuid
from kumoi.services.sns import api, envelope, publishing
from kumoi.services.sns import attributes as sns_attributes
from kumoi.services.sns.filter_policy import SCOPE_ATTRIBUTES
from kumoi.services.sns.names import check_arn, invalid, subscription_not_found, topic_not_found
from kumoi.services.sns.outbox import Outbox
from kumoi.services.sns.registry import Registry, Subscription, Topic
from kumoi.services.sns.signing import Signer
from kumoi.storage.meta.contract_sns import OutboxRow, SnsRepository

log = logging.getLogger("kumoi.sns")

PENDING = "pending confirmation"
SUBSCRIPTIONS_PAGE = 100
#: Bytes of randomness in a confirmation token (AWS's tokens are long hex strings).
TOKEN_BYTES = 64
PROTOCOLS = frozenset(
    {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
)
#: Protocols confirmed as soon as they are subscribed.
AUTO_CONFIRMED = frozenset({"sqs", "lambda", "application", "firehose"})
_SQS_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?")
_LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:\S+")
_APPLICATION_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/\S+")
_PHONE = re.compile(r"\+?[0-9]{4,15}")


def _check_endpoint(protocol: str, endpoint: str, topic: Topic) -> None:
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if protocol in ("http", "https"):
        if not endpoint.lower().startswith(f"{protocol}://") or len(endpoint) <= len(protocol) + 3:
            raise invalid("Endpoint must match the specified protocol")
    elif protocol == "sqs":
        if not _SQS_ARN.fullmatch(endpoint):
            raise invalid("SQS endpoint ARN")
        if topic.fifo and not endpoint.endswith(".fifo"):
            raise invalid("Invalid parameter: Endpoint Reason: Please use FIFO SQS queue")
        if not topic.fifo and endpoint.endswith(".fifo"):
            raise invalid(
                "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS "
                "topics"
            )
    elif protocol in ("email", "email-json"):
        if "@" not in endpoint or endpoint.startswith("@") or endpoint.endswith("@"):
            raise invalid("Email address")
    elif protocol == "sms":
        if not _PHONE.fullmatch(endpoint.replace("-", "").replace(" ", "")):
            raise invalid(f"Invalid SMS endpoint: {endpoint}")
    elif protocol == "lambda":
        if not _LAMBDA_ARN.fullmatch(endpoint):
            raise invalid("Lambda endpoint ARN")
    elif protocol == "application" and not _APPLICATION_ARN.fullmatch(endpoint):
        raise invalid("Application endpoint ARN")


def checked_attributes(given: dict[str, str], protocol: str, current: dict[str, str]) -> dict[str, str]:
    """Validate a set of subscription attributes; return them as stored."""
    scope = given.get("FilterPolicyScope", current.get("FilterPolicyScope", SCOPE_ATTRIBUTES))
    checked = {
        name: sns_attributes.check_subscription_attribute(name, value, protocol, scope)
        for name, value in given.items()
    }
    if "FilterPolicyScope" in given and "FilterPolicy" not in given and current.get("FilterPolicy"):
        sns_attributes.check_subscription_attribute("FilterPolicy", current["FilterPolicy"], protocol, scope)
    return checked


class Subscriptions:
    """The subscription operations (the provider adds topics and publishing)."""

    def __init__(
        self, registry: Registry, outbox: Outbox, repo: SnsRepository, clock: Clock, signer: Signer
    ) -> None:
        self._registry = registry
        self._outbox = outbox
        self._repo = repo
        self._clock = clock
        self._signer = signer

    async def _topic(self, arn: str) -> Topic:
        await self._registry.load()
        check_arn(arn, "TopicArn")
        topic = self._registry.topics.get(arn)
        if topic is None:
            raise topic_not_found()
        return topic

    async def _subscription(self, arn: str) -> Subscription:
        await self._registry.load()
        check_arn(arn, "SubscriptionArn")
        subscription = self._registry.subscriptions.get(arn)
        if subscription is None:
            raise subscription_not_found()
        return subscription

    async def subscribe(self, ctx: RequestContext, request: api.SubscribeInput) -> api.SubscribeResponse:
        topic = await self._topic(request["TopicArn"])
        protocol = request["Protocol"].lower()
        endpoint = request.get("Endpoint", "")
        _check_endpoint(protocol, endpoint, topic)
        given = dict(request.get("Attributes") or {})
        stored = checked_attributes(given, protocol, {})
        for existing in topic.subscriptions.values():
            if existing.protocol == protocol and existing.endpoint == endpoint:
                if any(existing.attributes.get(key, "") != value for key, value in stored.items()):
                    raise invalid("Attributes Reason: Subscription already exists with different attributes")
                return {"SubscriptionArn": self._shown_arn(existing, request)}
        subscription = Subscription(
            arn=f"{topic.arn}:{unique_uuid()}",
            topic_arn=topic.arn,
            protocol=protocol,
            endpoint=endpoint,
            owner=ctx.account_id,
            attributes=stored,
            confirmed=protocol in AUTO_CONFIRMED,
            token=secrets.token_hex(TOKEN_BYTES),
        )
        subscription.recompile()
        await self._registry.put_subscription(subscription)
        if protocol in ("http", "https"):
            await self._send_confirmation(envelope.SUBSCRIPTION_CONFIRMATION, topic, subscription, ctx)
        elif not subscription.confirmed:
            log.info(
                "SNS %s subscription %s to %s awaits confirmation; token %s",
                protocol,
                subscription.arn,
                endpoint,
                subscription.token,
            )
        return {"SubscriptionArn": self._shown_arn(subscription, request)}

    @staticmethod
    def _shown_arn(subscription: Subscription, request: api.SubscribeInput) -> str:
        if subscription.confirmed or request.get("ReturnSubscriptionArn"):
            return subscription.arn
        return PENDING

    async def _send_confirmation(
        self, kind: str, topic: Topic, subscription: Subscription, ctx: RequestContext
    ) -> None:
        payload = publishing.confirmation_payload(
            kind,
            topic,
            subscription,
            unique_uuid(),
            self._clock.now(),
            envelope.Links(ctx.base_url),
            self._signer,
        )
        rows = [OutboxRow(subscription.arn, payload)]
        await self._repo.publish(topic.arn, None, rows)
        self._outbox.submit(rows)

    async def confirm_subscription(
        self, ctx: RequestContext, request: api.ConfirmSubscriptionInput
    ) -> api.ConfirmSubscriptionResponse:
        topic = await self._topic(request["TopicArn"])
        token = request["Token"]
        for subscription in topic.subscriptions.values():
            if secrets.compare_digest(subscription.token, token):
                if not subscription.confirmed:
                    subscription.confirmed = True
                    subscription.authenticated = (
                        request.get("AuthenticateOnUnsubscribe", "false").lower() == "true"
                        and ctx.caller.arn != "anonymous"
                    )
                    await self._registry.put_subscription(subscription)
                return {"SubscriptionArn": subscription.arn}
        raise invalid("Token")

    async def unsubscribe(self, ctx: RequestContext, request: api.UnsubscribeInput) -> None:
        subscription = await self._subscription(request["SubscriptionArn"])
        if subscription.authenticated and ctx.caller.arn == "anonymous":
            raise api.AuthorizationErrorException(
                "Unsubscribe requires authentication for this subscription (AuthenticateOnUnsubscribe)"
            )
        topic = self._registry.topics.get(subscription.topic_arn)
        await self._registry.delete_subscription(subscription)
        if topic is not None and subscription.protocol in ("http", "https") and subscription.confirmed:
            await self._send_confirmation(envelope.UNSUBSCRIBE_CONFIRMATION, topic, subscription, ctx)

    async def list_subscriptions(
        self, ctx: RequestContext, request: api.ListSubscriptionsInput
    ) -> api.ListSubscriptionsResponse:
        await self._registry.load()
        prefix = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:"
        chosen = (
            s
            for s in self._registry.subscriptions_after(request.get("NextToken") or "")
            if s.arn.startswith(prefix)
        )
        return _page(chosen)

    async def list_subscriptions_by_topic(
        self, ctx: RequestContext, request: api.ListSubscriptionsByTopicInput
    ) -> api.ListSubscriptionsByTopicResponse:
        topic = await self._topic(request["TopicArn"])
        marker = request.get("NextToken") or ""
        if marker and not marker.startswith(topic.arn + ":"):
            raise invalid("NextToken")
        chosen = (
            s
            for s in self._registry.subscriptions_after(marker or topic.arn + ":")
            if s.topic_arn == topic.arn
        )
        return _page(chosen, stop_prefix=topic.arn + ":")

    async def get_subscription_attributes(
        self, ctx: RequestContext, request: api.GetSubscriptionAttributesInput
    ) -> api.GetSubscriptionAttributesResponse:
        subscription = await self._subscription(request["SubscriptionArn"])
        topic = self._registry.topics.get(subscription.topic_arn)
        return {"Attributes": sns_attributes.subscription_attributes(subscription, topic)}

    async def set_subscription_attributes(
        self, ctx: RequestContext, request: api.SetSubscriptionAttributesInput
    ) -> None:
        subscription = await self._subscription(request["SubscriptionArn"])
        name, value = request["AttributeName"], request.get("AttributeValue", "")
        checked = checked_attributes({name: value}, subscription.protocol, subscription.attributes)
        if value == "" and name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            subscription.attributes.pop(name, None)
        else:
            subscription.attributes.update(checked)
        subscription.recompile()
        await self._registry.put_subscription(subscription)


def _page(
    subscriptions: Iterable[Subscription], stop_prefix: str | None = None
) -> api.ListSubscriptionsResponse:
    page: list[api.Subscription] = []
    last = ""
    for subscription in subscriptions:
        if stop_prefix is not None and not subscription.arn.startswith(stop_prefix):
            break
        if len(page) == SUBSCRIPTIONS_PAGE:
            return {"Subscriptions": page, "NextToken": last}
        last = subscription.arn
        page.append(
            {
                "SubscriptionArn": subscription.arn if subscription.confirmed else PENDING,
                "Owner": subscription.owner,
                "Protocol": subscription.protocol,
                "Endpoint": subscription.endpoint,
                "TopicArn": subscription.topic_arn,
            }
        )
    return {"Subscriptions": page}
