"""SNS's authorization map: the IAM action, topic ARN and condition keys of each operation.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for Amazon
SNS"). Every operation is ``sns:<Operation>`` except ``PublishBatch`` (``sns:Publish``). Topic
operations act on the topic's ARN (``arn:aws:sns:<region>:<account>:<name>``); the others
(``ListTopics``, ``ListSubscriptions``, subscription attributes, ``Unsubscribe``, platform
applications and endpoints, SMS) have no resource type and act on ``*``, as does a ``Publish`` to
a phone number or a platform endpoint. ``Subscribe`` carries ``sns:Endpoint`` and
``sns:Protocol``; ``CreateTopic`` and ``TagResource`` carry ``aws:RequestTag/*`` and
``aws:TagKeys``, ``UntagResource`` ``aws:TagKeys``. The topic policy is the topic's ``Policy``
attribute (evaluated as a resource-based policy, like a queue policy) and its tags give
``aws:ResourceTag/*``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.services.sns.names import ARN_PARTS, topic_arn
from kumoi.services.sns.registry import Topic

_ACTIONS = {"PublishBatch": "sns:Publish"}
#: Operations on one topic, and the request member that names it.
_TOPIC_MEMBER = {
    "AddPermission": "TopicArn",
    "ConfirmSubscription": "TopicArn",
    "DeleteTopic": "TopicArn",
    "GetTopicAttributes": "TopicArn",
    "SetTopicAttributes": "TopicArn",
    "ListSubscriptionsByTopic": "TopicArn",
    "Publish": "TopicArn",
    "PublishBatch": "TopicArn",
    "RemovePermission": "TopicArn",
    "Subscribe": "TopicArn",
    "GetDataProtectionPolicy": "ResourceArn",
    "PutDataProtectionPolicy": "ResourceArn",
    "ListTagsForResource": "ResourceArn",
    "TagResource": "ResourceArn",
    "UntagResource": "ResourceArn",
}

#: Reads one topic (None if there is none): the SNS provider's ``find_topic``.
TopicReader = Callable[[str], Awaitable[Topic | None]]


def _tag_context(tags: Sequence[Mapping[str, Any]] | None) -> dict[str, list[str]]:
    if not tags:
        return {}
    context = {"aws:requesttag/" + str(tag["Key"]).lower(): [str(tag["Value"])] for tag in tags}
    context["aws:tagkeys"] = [str(tag["Key"]) for tag in tags]
    return context


def _topic_target(action: str, arn: str, context: dict[str, list[str]]) -> Target:
    parts = arn.split(":")
    if len(parts) != ARN_PARTS or parts[2] != "sns":
        return Target(action, arn or "*", context)
    return Target(action, arn, context, (arn,), parts[4])


def _named_arn(operation: str, params: Mapping[str, Any]) -> str | None:
    """The ARN of the topic (or endpoint) the operation acts on; None for one acting on none."""
    member = _TOPIC_MEMBER.get(operation)
    if member is None:
        return None
    arn = str(params.get(member) or "")
    if operation == "Publish" and not arn:
        arn = str(params.get("TargetArn") or "")
    return arn


def names_other_account(ctx: RequestContext, params: Mapping[str, Any]) -> bool:
    """Does the request name a topic another account owns? Asked of every SNS request while IAM
    is enforced for no account, so it only splits the ARN (as :func:`targets` reads it)."""
    arn = _named_arn(ctx.operation, params)
    if not arn:
        return False
    parts = arn.split(":")
    return len(parts) == ARN_PARTS and parts[2] == "sns" and parts[4] not in ("", ctx.account_id)


def targets(ctx: RequestContext, params: Mapping[str, Any]) -> list[Target]:
    operation = ctx.operation
    action = _ACTIONS.get(operation, f"sns:{operation}")
    if operation == "CreateTopic":
        arn = topic_arn(ctx.region, ctx.account_id, str(params.get("Name", "")))
        return [Target(action, arn, _tag_context(params.get("Tags")), (arn,), ctx.account_id)]
    named = _named_arn(operation, params)
    if named is None:
        return [Target(action, "*")]
    context: dict[str, list[str]] = {}
    if operation == "Subscribe":
        context["sns:protocol"] = [str(params.get("Protocol", ""))]
        if params.get("Endpoint") is not None:
            context["sns:endpoint"] = [str(params["Endpoint"])]
    elif operation == "TagResource":
        context = _tag_context(params.get("Tags"))
    elif operation == "UntagResource":
        context = {"aws:tagkeys": [str(key) for key in params.get("TagKeys") or ()]}
    return [_topic_target(action, named, context)]


class SnsAuthz:
    """Reads topic policies, owners and tags for the authorizer, from the SNS service's own view
    of its topics (so a policy change applies to the very next request)."""

    def __init__(self, topics: TopicReader) -> None:
        self._topics = topics

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        return targets(ctx, params)

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        topic = await self._topics(target.locator[0])
        if topic is None:
            return ResourceFacts(owner=target.resource_account)
        return ResourceFacts(topic.attributes.get("Policy"), topic.account_id, dict(topic.tags))
