"""Where IAM is enforced: the server's authorizer, and the resource-policy check on deliveries
between services.

:class:`Gate` is the :class:`~kumoi.core.authz.Authorizer` the server calls for every request.
It holds the :class:`~kumoi.core.authz.Enforcement` (which accounts are enforced: settings, and
``POST /_kumoi/enforcement`` while running) and builds the IAM policy engine the first time it is
needed, so a server that enforces nothing and sees no request between accounts never imports it.

Resource policies apply whether or not IAM is enforced: a request reaching another account's
bucket, queue or topic, or an anonymous S3 request, is allowed only where the resource's policy
allows it. While no account is enforced, the gate asks the engine only about those: SQS and SNS
requests name their queue's or topic's owner (:data:`NAMES_OTHER_ACCOUNT`), so the gate sees at
once whether one reaches out; an S3 bucket's owner is known only once the provider reads the
bucket, so for signed S3 requests the gate leaves the question on the request context and the
provider asks it only for a bucket another account owns
(:meth:`~kumoi.core.context.RequestContext.foreign_access`): requests within one account pay
nothing for it.

Where the engine evaluated an S3 request, the gate also leaves the question S3 asks before it
says a key does not exist (:meth:`~kumoi.core.context.RequestContext.may_learn_absence`): may the
caller list the bucket? S3 answers ``NoSuchKey`` only then and ``AccessDenied`` otherwise, so a
caller cannot probe which keys exist; the provider asks only when the key is missing. Anonymous S3
requests to a bucket that does not exist get ``NoSuchBucket``, as S3 tells anyone.

Deliveries from one service to another (SNS subscriptions and S3 event notifications to queues,
S3 event notifications to topics) go through :class:`GatedQueues` and :class:`GatedTopics`,
wrapped around the SQS and SNS providers here, in one place: where the destination's account is
enforced, the queue or topic policy must allow the delivering AWS service (``sns.amazonaws.com``,
``s3.amazonaws.com``) with the delivery's ``aws:SourceArn`` and ``aws:SourceAccount``, as on
AWS, or the delivery fails with ``AccessDenied`` (the senders then drop the message, with a log
line, or send it to a dead-letter queue, as AWS does).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from kumoi.auth.policy import Target
from kumoi.core.authz import Enforcement, default_check
from kumoi.core.context import RequestContext
from kumoi.core.delivery import DeliverySource, OutgoingMessage, QueueDelivery, TopicDelivery
from kumoi.runtime.wiring.deps import Deps
from kumoi.services.s3.authz import listing_target as s3_listing_target
from kumoi.services.sns.authz import names_other_account as sns_names_other_account
from kumoi.services.sqs.authz import names_other_account as sqs_names_other_account

if TYPE_CHECKING:
    from kumoi.services.iam.authorizer import IamAuthorizer

log = logging.getLogger("kumoi.authz")


#: Services whose requests name the owner of the resource they act on (in a queue URL or a topic
#: ARN), and how to tell cheaply that a request names another account's.
NAMES_OTHER_ACCOUNT: dict[str, Callable[[RequestContext, Mapping[str, Any]], bool]] = {
    "sqs": sqs_names_other_account,
    "sns": sns_names_other_account,
}
#: Services whose resources' owners only the provider learns (by reading the resource).
OWNER_KNOWN_LATER = frozenset({"s3"})
#: Services whose resource policies may open a resource to anonymous callers (elsewhere the
#: default check refuses them).
OPEN_TO_ANONYMOUS = frozenset({"s3"})
#: Services that tell any caller, anonymous or not, that a resource does not exist.
REVEALS_MISSING = frozenset({"s3"})


#: Services that tell a caller that something in a container (a key in a bucket) does not exist
#: only where it may list the container, and the permission that lets it.
ABSENCE_PERMISSIONS: dict[str, Callable[[RequestContext, str], Target]] = {"s3": s3_listing_target}


def _account_of(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


class Gate:
    """The server's authorizer: the IAM policy engine for enforced accounts and for requests
    reaching into another account (or anonymous S3 requests), the default check for the rest."""

    def __init__(self, deps: Deps) -> None:
        settings = deps.settings
        for account in settings.enforce_iam_accounts:
            if not (len(account) == 12 and account.isdigit()):
                log.warning(
                    "--enforce-iam-accounts: %r is not a 12-digit account id; it matches nothing", account
                )
        self.enforcement = Enforcement(settings.enforce_iam, settings.enforce_iam_accounts)
        self._deps = deps
        self._engine: IamAuthorizer | None = None
        from kumoi.runtime.wiring import iam

        #: Each access key's last use (service, region, time), for GetAccessKeyLastUsed and the
        #: credential report: recorded for every signed request, enforced or not.
        self._last_used = iam.directory(deps).last_used

    def engine(self) -> IamAuthorizer:
        """The IAM policy engine, built on first need."""
        if self._engine is None:
            from kumoi.runtime.wiring import iam

            self._engine = iam.authorizer(self._deps, self.enforcement.applies)
        return self._engine

    async def authorize(self, context: RequestContext, params: Mapping[str, Any]) -> None:
        caller = context.caller
        if caller.account_id:
            self._last_used[caller.access_key_id] = (context.service, context.region, self._deps.clock.now())
        if self.enforcement.active:
            await self._evaluate(context, params)
            return
        service = context.service
        if not context.caller.account_id:
            if service in OPEN_TO_ANONYMOUS:
                await self._evaluate(context, params)
            else:
                default_check(context)  # refuses the unsigned request
        elif service in OWNER_KNOWN_LATER:
            context.foreign_check = partial(self._evaluate, context, params)
        else:
            names_other = NAMES_OTHER_ACCOUNT.get(service)
            if names_other is not None and names_other(context, params):
                await self._evaluate(context, params)

    async def _evaluate(self, context: RequestContext, params: Mapping[str, Any]) -> None:
        """Have the engine authorize the request; where it evaluated it, leave the check that
        tells whether its caller may learn that something does not exist."""
        service = context.service
        evaluated = await self.engine().authorize(context, params, reveal_missing=service in REVEALS_MISSING)
        if evaluated and service in ABSENCE_PERMISSIONS:
            context.absence_check = partial(self._may_learn_absence, context)

    async def _may_learn_absence(self, context: RequestContext, container: str) -> bool:
        target = ABSENCE_PERMISSIONS[context.service](context, container)
        return await self.engine().allows(context, target)

    async def check_delivery(
        self, service: str, action: str, arn: str, source: DeliverySource | None
    ) -> None:
        """Raise ``AccessDenied`` if ``arn``'s account is enforced and its policy does not let
        ``source`` deliver. A delivery that names no source is not checked."""
        if source is None or not self.enforcement.applies(_account_of(arn)):
            return
        await self.engine().authorize_delivery(service, action, arn, source)


_GATES: weakref.WeakKeyDictionary[Deps, Gate] = weakref.WeakKeyDictionary()


def gate(deps: Deps) -> Gate:
    """The one gate of this composition root (shared by the server and the deliveries)."""
    found = _GATES.get(deps)
    if found is None:
        found = _GATES[deps] = Gate(deps)
    return found


class GatedQueues:
    """:class:`~kumoi.core.delivery.QueueDelivery` that checks the queue policy first."""

    def __init__(self, inner: QueueDelivery, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate

    async def deliver(
        self, queue_arn: str, messages: list[OutgoingMessage], *, source: DeliverySource | None = None
    ) -> list[str]:
        await self._gate.check_delivery("sqs", "sqs:SendMessage", queue_arn, source)
        return await self._inner.deliver(queue_arn, messages, source=source)


class GatedTopics:
    """:class:`~kumoi.core.delivery.TopicDelivery` that checks the topic policy first."""

    def __init__(self, inner: TopicDelivery, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate

    async def publish_to_topic(
        self,
        topic_arn: str,
        message: str,
        subject: str | None,
        base_url: str,
        *,
        source: DeliverySource | None = None,
    ) -> str:
        await self._gate.check_delivery("sns", "sns:Publish", topic_arn, source)
        return await self._inner.publish_to_topic(topic_arn, message, subject, base_url, source=source)


def queues(deps: Deps, inner: QueueDelivery) -> QueueDelivery:
    return GatedQueues(inner, gate(deps))


def topics(deps: Deps, inner: TopicDelivery) -> TopicDelivery:
    return GatedTopics(inner, gate(deps))
