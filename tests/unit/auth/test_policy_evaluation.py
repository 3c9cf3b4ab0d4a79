"""A table of evaluation cases: identity, resource, boundary and session policies, cross-account,
root and anonymous callers, conditions, wildcards and variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kumoi.auth.policy import AccessRequest, Policy, PolicySet, denial_message, evaluate
from tests.unit.auth.policy_cases import (
    ACCOUNT,
    ALICE,
    ANONYMOUS,
    OTHER,
    ROOT,
    STRANGER,
    STRANGER_ARN,
    allow,
    deny,
    identity,
    request,
    resource_policy,
)

OBJECT = "arn:aws:s3:::data/reports/q1.csv"
BUCKET = "arn:aws:s3:::data"
ALICE_PRINCIPAL = {"AWS": ALICE.arn}


@dataclass
class Case:
    name: str
    request: AccessRequest
    policies: PolicySet
    expected: str
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def ids(*policies: Policy) -> tuple[Policy, ...]:
    return policies


CASES = [
    Case(
        "no policies: implicit deny", request("s3:GetObject", OBJECT), PolicySet(), "implicitDeny", "identity"
    ),
    Case(
        "identity allow",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:GetObject")))),
        "allowed",
    ),
    Case(
        "action wildcard, case-insensitive",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("S3:get*")))),
        "allowed",
    ),
    Case(
        "resource wildcard is case-sensitive",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:GetObject", "arn:aws:s3:::DATA/*")))),
        "implicitDeny",
    ),
    Case(
        "question mark matches one character",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:GetObject", "arn:aws:s3:::data/reports/q?.csv")))),
        "allowed",
    ),
    Case(
        "explicit deny beats allow",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"), deny("s3:GetObject", "arn:aws:s3:::data/*")))),
        "explicitDeny",
        "identity",
    ),
    Case(
        "NotAction allows everything else",
        request("sqs:SendMessage", "*"),
        PolicySet(ids(identity({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))),
        "allowed",
    ),
    Case(
        "NotAction excludes its actions",
        request("iam:CreateUser", "*"),
        PolicySet(ids(identity({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))),
        "implicitDeny",
    ),
    Case(
        "NotResource",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::data/*"}))),
        "implicitDeny",
    ),
    Case(
        "boundary narrows identity",
        request("s3:PutObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"))), boundary=identity(allow("s3:Get*"))),
        "implicitDeny",
        "boundary",
    ),
    Case(
        "boundary and identity both allow",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"))), boundary=identity(allow("s3:Get*"))),
        "allowed",
    ),
    Case(
        "boundary alone grants nothing",
        request("s3:GetObject", OBJECT),
        PolicySet((), boundary=identity(allow("s3:*"))),
        "implicitDeny",
        "identity",
    ),
    Case(
        "session policy narrows",
        request("s3:PutObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"))), session=(identity(allow("s3:GetObject")),)),
        "implicitDeny",
        "session",
    ),
    Case(
        "empty session policy set denies all",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"))), session=()),
        "implicitDeny",
        "session",
    ),
    Case(
        "deny in session policy",
        request("s3:GetObject", OBJECT),
        PolicySet(ids(identity(allow("s3:*"))), session=(identity(deny("s3:GetObject")),)),
        "explicitDeny",
        "session",
    ),
    Case(
        "same-account resource policy naming the user allows alone",
        request("s3:GetObject", OBJECT),
        PolicySet((), (resource_policy(allow("s3:GetObject", OBJECT, Principal=ALICE_PRINCIPAL)),)),
        "allowed",
    ),
    Case(
        "resource policy naming the user is not limited by a boundary's implicit deny",
        request("s3:GetObject", OBJECT),
        PolicySet(
            (),
            (resource_policy(allow("s3:GetObject", OBJECT, Principal=ALICE_PRINCIPAL)),),
            boundary=identity(allow("sqs:*")),
        ),
        "allowed",
    ),
    Case(
        "resource policy naming the account delegates to identity policies",
        request("s3:GetObject", OBJECT),
        PolicySet((), (resource_policy(allow("s3:GetObject", OBJECT, Principal={"AWS": ACCOUNT})),)),
        "implicitDeny",
        "identity",
    ),
    Case(
        "resource policy deny beats identity allow",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(identity(allow("s3:*"))),
            (resource_policy(deny("s3:*", "arn:aws:s3:::data/*", Principal="*")),),
        ),
        "explicitDeny",
        "resource",
    ),
    Case(
        "resource policy deny for another principal does not apply",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(identity(allow("s3:*"))),
            (resource_policy(deny("s3:*", "arn:aws:s3:::data/*", Principal={"AWS": STRANGER_ARN})),),
        ),
        "allowed",
    ),
    Case(
        "NotPrincipal deny applies to everyone else",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(identity(allow("s3:*"))),
            (
                resource_policy(
                    {**deny("s3:*", "arn:aws:s3:::data/*"), "NotPrincipal": {"AWS": STRANGER_ARN}}
                ),
            ),
        ),
        "explicitDeny",
        "resource",
    ),
    Case(
        "cross-account needs the resource policy",
        request("s3:GetObject", OBJECT, STRANGER, owner=ACCOUNT),
        PolicySet(ids(identity(allow("s3:*")))),
        "implicitDeny",
        "resource",
    ),
    Case(
        "cross-account needs the identity policy too",
        request("s3:GetObject", OBJECT, STRANGER, owner=ACCOUNT),
        PolicySet((), (resource_policy(allow("s3:GetObject", OBJECT, Principal={"AWS": OTHER})),)),
        "implicitDeny",
        "identity",
    ),
    Case(
        "cross-account with both sides",
        request("s3:GetObject", OBJECT, STRANGER, owner=ACCOUNT),
        PolicySet(
            ids(identity(allow("s3:GetObject"))),
            (
                resource_policy(
                    allow("s3:GetObject", OBJECT, Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})
                ),
            ),
        ),
        "allowed",
    ),
    Case("root is allowed", request("iam:DeleteUser", "*", ROOT), PolicySet(), "allowed", "root"),
    Case(
        "root is stopped by a resource policy deny",
        request("s3:GetObject", OBJECT, ROOT),
        PolicySet((), (resource_policy(deny("s3:GetObject", OBJECT, Principal="*")),)),
        "explicitDeny",
    ),
    Case(
        "anonymous denied",
        request("s3:GetObject", OBJECT, ANONYMOUS),
        PolicySet(),
        "implicitDeny",
        "resource",
    ),
    Case(
        "anonymous allowed by a public resource policy",
        request("s3:GetObject", OBJECT, ANONYMOUS),
        PolicySet((), (resource_policy(allow("s3:GetObject", "arn:aws:s3:::data/*", Principal="*")),)),
        "allowed",
    ),
    Case(
        "anonymous not allowed by an account principal",
        request("s3:GetObject", OBJECT, ANONYMOUS),
        PolicySet(
            (), (resource_policy(allow("s3:GetObject", "arn:aws:s3:::data/*", Principal={"AWS": ACCOUNT})),)
        ),
        "implicitDeny",
    ),
    Case(
        "policy variable in resource",
        request("s3:GetObject", "arn:aws:s3:::home/alice/notes", context={"aws:username": ["alice"]}),
        PolicySet(ids(identity(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")))),
        "allowed",
    ),
    Case(
        "policy variable for someone else's folder",
        request("s3:GetObject", "arn:aws:s3:::home/bob/notes", context={"aws:username": ["alice"]}),
        PolicySet(ids(identity(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")))),
        "implicitDeny",
    ),
    Case(
        "unresolvable variable matches nothing",
        request("s3:GetObject", "arn:aws:s3:::home/alice/notes"),
        PolicySet(ids(identity(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")))),
        "implicitDeny",
    ),
    Case(
        "StringLike on s3:prefix with a variable",
        request("s3:ListBucket", BUCKET, context={"s3:prefix": ["home/alice/"], "aws:username": ["alice"]}),
        PolicySet(
            ids(
                identity(
                    allow(
                        "s3:ListBucket",
                        BUCKET,
                        Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
                    )
                )
            )
        ),
        "allowed",
    ),
    Case(
        "IpAddress outside the range",
        request("s3:GetObject", OBJECT, context={"aws:sourceip": ["10.1.2.3"]}),
        PolicySet(ids(identity(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "192.168.0.0/16"}})))),
        "implicitDeny",
    ),
    Case(
        "NotIpAddress deny outside the office",
        request("s3:GetObject", OBJECT, context={"aws:sourceip": ["10.1.2.3"]}),
        PolicySet(
            ids(
                identity(
                    allow("s3:*"),
                    deny(
                        "*", Condition={"NotIpAddress": {"aws:SourceIp": ["192.168.0.0/16", "127.0.0.1/32"]}}
                    ),
                )
            )
        ),
        "explicitDeny",
    ),
    Case(
        "Bool SecureTransport false denies",
        request("s3:GetObject", OBJECT, context={"aws:securetransport": ["false"]}),
        PolicySet(
            ids(identity(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}})))
        ),
        "explicitDeny",
    ),
    Case(
        "DateLessThan in the past",
        request("s3:GetObject", OBJECT, context={"aws:currenttime": ["2026-01-01T00:00:00Z"]}),
        PolicySet(
            ids(
                identity(
                    allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}})
                )
            )
        ),
        "implicitDeny",
    ),
    Case(
        "NumericLessThanEquals on s3:max-keys",
        request("s3:ListBucket", BUCKET, context={"s3:max-keys": ["10"]}),
        PolicySet(
            ids(identity(allow("s3:ListBucket", Condition={"NumericLessThanEquals": {"s3:max-keys": "100"}})))
        ),
        "allowed",
    ),
    Case(
        "missing key fails a positive condition",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(identity(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}})))
        ),
        "implicitDeny",
    ),
    Case(
        "IfExists passes on a missing key",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(
                identity(allow("s3:*", Condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": "data"}}))
            )
        ),
        "allowed",
    ),
    Case(
        "Null true when the key is absent",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(
                identity(
                    deny("s3:*", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}}), allow("s3:*")
                )
            )
        ),
        "explicitDeny",
    ),
    Case(
        "ForAllValues with an extra tag key",
        request("sqs:TagQueue", "*", context={"aws:tagkeys": ["team", "cost"]}),
        PolicySet(
            ids(
                identity(
                    allow("sqs:TagQueue", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})
                )
            )
        ),
        "implicitDeny",
    ),
    Case(
        "ForAnyValue with one matching tag key",
        request("sqs:TagQueue", "*", context={"aws:tagkeys": ["team", "cost"]}),
        PolicySet(
            ids(
                identity(
                    allow("sqs:TagQueue", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}})
                )
            )
        ),
        "allowed",
    ),
    Case(
        "ArnLike on the principal ARN",
        request("s3:GetObject", OBJECT, context={"aws:principalarn": [ALICE.arn]}),
        PolicySet(
            ids(
                identity(
                    allow("s3:*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ali*"}})
                )
            )
        ),
        "allowed",
    ),
    Case(
        "StringNotEquals true on a missing key",
        request("s3:GetObject", OBJECT),
        PolicySet(
            ids(
                identity(
                    allow("s3:*"), deny("s3:*", Condition={"StringNotEquals": {"aws:PrincipalTag/team": "x"}})
                )
            )
        ),
        "explicitDeny",
    ),
    Case(
        "principal tag variable in a condition",
        request(
            "s3:GetObject",
            OBJECT,
            context={"aws:principaltag/team": ["data"], "aws:resourcetag/team": ["data"]},
        ),
        PolicySet(
            ids(
                identity(
                    allow(
                        "s3:*",
                        Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                    )
                )
            )
        ),
        "allowed",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_evaluation(case: Case) -> None:
    decision = evaluate(case.request, case.policies)
    assert decision.decision == case.expected
    if case.reason is not None:
        assert decision.reason == case.reason


def test_legacy_version_keeps_variables_literal() -> None:
    from kumoi.auth.policy import compile_policy
    from tests.unit.auth.policy_cases import doc

    legacy = compile_policy(
        doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"), version="2008-10-17")
    )
    literal = request(
        "s3:GetObject", "arn:aws:s3:::home/${aws:username}/x", context={"aws:username": ["alice"]}
    )
    assert evaluate(literal, PolicySet((legacy,))).allowed


def test_decision_names_the_matching_statement() -> None:
    policy = identity({**deny("s3:DeleteObject"), "Sid": "NoDeletes"})
    decision = evaluate(request("s3:DeleteObject", OBJECT), PolicySet((policy,)))
    assert [match.sid for match in decision.matched] == ["NoDeletes"]
    assert "Sid 'NoDeletes' of identity" in decision.matched[0].describe()


@pytest.mark.parametrize(
    ("policies", "ending"),
    [
        (PolicySet(), "because no identity-based policy allows the s3:GetObject action"),
        (PolicySet((identity(deny("s3:*")),)), "with an explicit deny in an identity-based policy"),
        (
            PolicySet((identity(allow("s3:*")),), boundary=identity(allow("sqs:*"))),
            "because no permissions boundary allows the s3:GetObject action",
        ),
        (
            PolicySet((identity(allow("s3:*")),), session=(identity(allow("sqs:*")),)),
            "because no session policy allows the s3:GetObject action",
        ),
        (
            PolicySet((), (resource_policy(deny("s3:*", "*", Principal="*")),)),
            "with an explicit deny in a resource-based policy",
        ),
    ],
)
def test_denial_messages(policies: PolicySet, ending: str) -> None:
    access = request("s3:GetObject", OBJECT)
    message = denial_message(access, evaluate(access, policies))
    assert message == (
        f"User: {ALICE.arn} is not authorized to perform: s3:GetObject on resource: {OBJECT} {ending}"
    )


def test_anonymous_denial_message() -> None:
    access = request("s3:GetObject", OBJECT, ANONYMOUS)
    assert denial_message(access, evaluate(access, PolicySet())).startswith(
        "Anonymous user is not authorized"
    )


def test_cross_account_message_names_the_resource_policy() -> None:
    access = request("s3:GetObject", OBJECT, STRANGER, owner=ACCOUNT)
    message = denial_message(access, evaluate(access, PolicySet((identity(allow("s3:*")),))))
    assert message.endswith("because no resource-based policy allows the s3:GetObject action")
