"""AWS services as principals (deliveries between services): only the destination's resource
policy can allow them, by naming the service or ``"*"``, usually with ``aws:SourceArn`` and
``aws:SourceAccount`` conditions; an explicit deny still wins."""

from __future__ import annotations

import pytest

from kumoi.auth.policy import AccessRequest, PolicySet, Principal, denial_message, evaluate
from tests.unit.auth.policy_cases import ACCOUNT, OTHER, allow, deny, identity, resource_policy

SNS = Principal("sns.amazonaws.com", "", "service", frozenset({"sns.amazonaws.com"}))
S3 = Principal("s3.amazonaws.com", "", "service", frozenset({"s3.amazonaws.com"}))
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:events"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{OTHER}:events"


def delivery(principal: Principal, source_arn: str, source_account: str) -> AccessRequest:
    context = {"aws:sourcearn": [source_arn], "aws:sourceaccount": [source_account]}
    return AccessRequest("sqs:SendMessage", QUEUE, principal, context, ACCOUNT)


def on_queue(*statements: dict[str, object]) -> PolicySet:
    return PolicySet(resource=(resource_policy(*statements),))


FROM_TOPIC = {"ArnEquals": {"aws:SourceArn": TOPIC}}
CASES: list[tuple[str, AccessRequest, PolicySet, str]] = [
    ("no queue policy", delivery(SNS, TOPIC, ACCOUNT), PolicySet(), "implicitDeny"),
    (
        "service principal with the source ARN",
        delivery(SNS, TOPIC, ACCOUNT),
        on_queue(
            allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"}, Condition=FROM_TOPIC)
        ),
        "allowed",
    ),
    (
        "another topic's ARN",
        delivery(SNS, OTHER_TOPIC, OTHER),
        on_queue(
            allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"}, Condition=FROM_TOPIC)
        ),
        "implicitDeny",
    ),
    (
        "star principal with the source ARN (the SDKs' SubscribeQueue policy)",
        delivery(SNS, TOPIC, ACCOUNT),
        on_queue(
            allow(
                "sqs:SendMessage",
                QUEUE,
                Principal={"AWS": "*"},
                Condition={"ArnLike": {"aws:SourceArn": TOPIC}},
            )
        ),
        "allowed",
    ),
    (
        "another service is not named",
        delivery(S3, "arn:aws:s3:::photos", ACCOUNT),
        on_queue(allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"})),
        "implicitDeny",
    ),
    (
        "naming the source's account does not name the service",
        delivery(SNS, TOPIC, ACCOUNT),
        on_queue(allow("sqs:SendMessage", QUEUE, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
        "implicitDeny",
    ),
    (
        "source account condition",
        delivery(S3, "arn:aws:s3:::photos", OTHER),
        on_queue(
            allow(
                "sqs:SendMessage",
                QUEUE,
                Principal={"Service": "s3.amazonaws.com"},
                Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            )
        ),
        "implicitDeny",
    ),
    (
        "explicit deny wins",
        delivery(SNS, TOPIC, ACCOUNT),
        on_queue(
            allow("sqs:SendMessage", QUEUE, Principal="*"),
            deny(
                "sqs:SendMessage",
                QUEUE,
                Principal="*",
                Condition={"ArnNotEquals": {"aws:SourceArn": OTHER_TOPIC}},
            ),
        ),
        "explicitDeny",
    ),
    (
        "identity policies do not apply to services",
        delivery(SNS, TOPIC, ACCOUNT),
        PolicySet(identity=(identity(allow("sqs:*")),)),
        "implicitDeny",
    ),
]


@pytest.mark.parametrize(("name", "request_", "policies", "expected"), CASES, ids=[case[0] for case in CASES])
def test_service_principals(name: str, request_: AccessRequest, policies: PolicySet, expected: str) -> None:
    assert evaluate(request_, policies).decision == expected


def test_denial_names_the_service() -> None:
    request_ = delivery(SNS, TOPIC, ACCOUNT)
    message = denial_message(request_, evaluate(request_, PolicySet()))
    assert message == (
        f"Service: sns.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: {QUEUE} "
        "because no resource-based policy allows the sqs:SendMessage action"
    )
