"""The cheap "does this request reach into another account?" tests the gate asks of every SQS and
SNS request while IAM is enforced for no account: they must agree with the authorization maps'
targets (which name the owner the policy engine then evaluates), and a request context's
``foreign_access`` runs the check the authorizer left on it once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.core.context import Caller, RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.sns.authz import names_other_account as sns_names_other_account
from kumoi.services.sns.authz import targets as sns_targets
from kumoi.services.sqs.authz import names_other_account as sqs_names_other_account
from kumoi.services.sqs.authz import targets as sqs_targets

CALLER = "111111111111"
OTHER = "222222222222"

accounts = st.sampled_from([CALLER, OTHER, "12345", "", "abcdefghijkl"])
names = st.sampled_from(["jobs", "jobs.fifo", "", "a/b"])


def ctx(service: str, operation: str) -> RequestContext:
    caller = Caller(CALLER, f"arn:aws:iam::{CALLER}:user/alice", "AIDA", "AKIA", None, False)
    return RequestContext("r", service, operation, "us-east-1", caller, "http://localhost:4566", "localhost")


def reaches_out(targets: list[Any]) -> bool:
    """What the policy engine sees: a target whose owner is another account."""
    for target in targets:
        owner = target.resource_account or (target.locator[0] if target.locator else "")
        if owner not in ("", CALLER):
            return True
    return False


@given(
    operation=st.sampled_from(["SendMessage", "ReceiveMessage", "PurgeQueue", "GetQueueAttributes"]),
    host=st.sampled_from(["http://localhost:4566", "https://sqs.us-east-1.amazonaws.com", ""]),
    account=accounts,
    name=names,
)
def test_sqs_queue_urls_agree_with_the_targets(operation: str, host: str, account: str, name: str) -> None:
    context = ctx("sqs", operation)
    params = {"QueueUrl": f"{host}/{account}/{name}"}
    assert sqs_names_other_account(context, params) == reaches_out(sqs_targets(context, params))


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetQueueUrl", {"QueueName": "q", "QueueOwnerAWSAccountId": OTHER}, True),
        ("GetQueueUrl", {"QueueName": "q"}, False),
        ("CreateQueue", {"QueueName": "q"}, False),
        ("ListQueues", {}, False),
        ("StartMessageMoveTask", {"SourceArn": f"arn:aws:sqs:us-east-1:{OTHER}:dlq"}, True),
        ("StartMessageMoveTask", {"SourceArn": f"arn:aws:sqs:us-east-1:{CALLER}:dlq"}, False),
        ("SendMessage", {"QueueUrl": "not a url"}, False),
    ],
)
def test_sqs_other_operations(operation: str, params: dict[str, Any], expected: bool) -> None:
    context = ctx("sqs", operation)
    assert sqs_names_other_account(context, params) is expected
    assert reaches_out(sqs_targets(context, params)) is expected


@given(
    operation=st.sampled_from(["Publish", "Subscribe", "GetTopicAttributes", "TagResource", "ListTopics"]),
    service=st.sampled_from(["sns", "sqs"]),
    account=accounts,
    name=names,
    member=st.sampled_from(["TopicArn", "TargetArn", "ResourceArn"]),
)
def test_sns_arns_agree_with_the_targets(
    operation: str, service: str, account: str, name: str, member: str
) -> None:
    context = ctx("sns", operation)
    params = {member: f"arn:aws:{service}:us-east-1:{account}:{name}", "Tags": []}
    expected = any(t.resource_account not in ("", CALLER) for t in sns_targets(context, params))
    assert sns_names_other_account(context, params) == expected


def test_foreign_access_runs_the_left_check_once() -> None:
    context = ctx("s3", "GetObject")
    assert asyncio.run(context.foreign_access()) is False
    calls: list[str] = []

    async def grant() -> None:
        calls.append("grant")
        context.foreign_granted = True

    context.foreign_check = grant
    assert asyncio.run(context.foreign_access()) is True
    assert asyncio.run(context.foreign_access()) is True
    assert calls == ["grant"]


def test_foreign_access_passes_the_denial_on() -> None:
    context = ctx("s3", "GetObject")

    async def deny() -> None:
        raise ServiceError("AccessDenied", "Access Denied", status=403)

    context.foreign_check = deny
    with pytest.raises(ServiceError):
        asyncio.run(context.foreign_access())
    assert asyncio.run(context.foreign_access()) is False
