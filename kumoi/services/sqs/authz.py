"""SQS's authorization map: the IAM action, queue ARN and condition keys of each operation.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for Amazon
SQS"). Queues are ``arn:aws:sqs:<region>:<account>:<name>``; batch operations use the action of
their single form (``SendMessageBatch`` is ``sqs:SendMessage``); ``ListQueues`` acts on ``*``.
``CreateQueue`` and ``TagQueue`` carry ``aws:RequestTag/*`` and ``aws:TagKeys``. The queue policy
is the queue's ``Policy`` attribute; the queue's tags give ``aws:ResourceTag/*``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.sqs.urls import parse_queue_url, queue_arn
from kumoi.storage.meta.contract import MetadataStore

_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_ACCOUNT_LEVEL = frozenset({"ListQueues"})
#: Message-move tasks name their source queue by ARN.
_BY_ARN = frozenset({"StartMessageMoveTask", "ListMessageMoveTasks"})


def _tag_keys(tags: Mapping[str, Any] | None) -> dict[str, list[str]]:
    if not tags:
        return {}
    context = {"aws:requesttag/" + str(key).lower(): [str(value)] for key, value in tags.items()}
    context["aws:tagkeys"] = [str(key) for key in tags]
    return context


def targets(ctx: RequestContext, params: Mapping[str, Any]) -> list[Target]:
    operation = ctx.operation
    action = _ACTIONS.get(operation, f"sqs:{operation}")
    if operation in _ACCOUNT_LEVEL:
        return [Target(action, "*")]
    if operation == "CreateQueue":
        arn = queue_arn(ctx.region, ctx.account_id, str(params.get("QueueName", "")))
        return [Target(action, arn, _tag_keys(params.get("tags")), None, ctx.account_id)]
    if operation == "GetQueueUrl":
        account = str(params.get("QueueOwnerAWSAccountId") or ctx.account_id)
        name = str(params.get("QueueName", ""))
        return [Target(action, queue_arn(ctx.region, account, name), {}, (account, name), account)]
    if operation in _BY_ARN:
        arn = str(params.get("SourceArn", "*"))
        parts = arn.split(":")
        locator = (parts[4], parts[5]) if len(parts) == 6 else None
        return [Target(action, arn, {}, locator)]
    try:
        account, name = parse_queue_url(str(params.get("QueueUrl", "")))
    except ServiceError:
        return [Target(action, "*")]
    context = _tag_keys(params.get("Tags")) if operation == "TagQueue" else {}
    if operation == "UntagQueue":
        context = {"aws:tagkeys": [str(key) for key in params.get("TagKeys") or ()]}
    return [Target(action, queue_arn(ctx.region, account, name), context, (account, name), account)]


@lru_cache(maxsize=4096)
def _url_owner(url: str) -> str:
    """The account a queue URL names ("" if it is no queue URL)."""
    try:
        return parse_queue_url(url)[0]
    except ServiceError:
        return ""


def names_other_account(ctx: RequestContext, params: Mapping[str, Any]) -> bool:
    """Does the request name a queue another account owns? Asked of every SQS request while IAM
    is enforced for no account, so the usual case (a queue URL) costs one cache look-up."""
    url = params.get("QueueUrl")
    if url is not None:
        return _url_owner(str(url)) not in ("", ctx.account_id)
    for target in targets(ctx, params):
        owner = target.resource_account or (target.locator[0] if target.locator else "")
        if owner not in ("", ctx.account_id):
            return True
    return False


class SqsAuthz:
    """Reads queue policies, owners and tags for the authorizer."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        return targets(ctx, params)

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        account, name = target.locator
        record = await self._meta.sqs.get_queue(account, name)
        if record is None:
            return ResourceFacts(owner=account)
        return ResourceFacts(record.attributes.get("Policy"), record.account_id, dict(record.tags))
