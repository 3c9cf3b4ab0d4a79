"""S3's rules for public bucket policies, the action table, and the policy RestrictPublicBuckets
leaves in force."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import policy_rules
from kumoi.services.s3.owner import canonical_id
from kumoi.services.s3.policy_actions import BUCKET, OBJECT, resource_types
from kumoi.services.s3.public_access import block_settings, effective_policy

BUCKET_NAME = "bkt"
OWNER = "111111111111"
OTHER = "222222222222"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any = "*", condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET_NAME}/*",
    }
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return statement


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (allow(), True),
        (allow({"AWS": "*"}), True),
        (allow({"AWS": ["arn:aws:iam::111111111111:root", "*"]}), True),
        (allow({"AWS": "arn:aws:iam::111111111111:root"}), False),
        (allow({"Service": "cloudfront.amazonaws.com"}), False),
        ({**allow(), "Effect": "Deny"}, False),
        (
            {key: value for key, value in allow().items() if key != "Principal"}
            | {"NotPrincipal": {"AWS": OWNER}},
            True,
        ),
        (allow(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), False),
        (allow(condition={"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}), False),
        (allow(condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}), True),
        (allow(condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/0"]}}), True),
        (allow(condition={"IpAddress": {"aws:SourceIp": "::/0"}}), True),
        (allow(condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), True),
        (allow(condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), False),
        (allow(condition={"StringEquals": {"aws:sourcevpc": "vpc-1"}}), False),
        (allow(condition={"StringLike": {"aws:SourceVpc": "vpc-*"}}), True),
        (allow(condition={"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}), True),
        (allow(condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}), True),
        (allow(condition={"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}), True),
        (allow(condition={"ForAnyValue:StringEquals": {"aws:SourceVpc": "vpc-1"}}), False),
        (allow(condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:t"}}), False),
        (allow(condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111111111111:*"}}), True),
        (allow(condition={"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}), True),
        (allow(condition={"StringEquals": {"aws:SourceAccount": OWNER}}), False),
        (allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), False),
        (allow(condition={"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}), False),
        (allow(condition={"StringLike": {"aws:userid": "*"}}), True),
        (allow(condition={"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "k"}}), False),
        (allow(condition={"StringEquals": {"aws:username": "alice"}}), True),
        (allow(condition={"Bool": {"aws:SecureTransport": "true"}}), True),
    ],
)
def test_public_rules(statement: dict[str, Any], public: bool) -> None:
    assert policy_rules.is_public(document(statement)) is public


def test_one_public_statement_makes_the_policy_public() -> None:
    assert policy_rules.is_public(document(allow({"AWS": OWNER}), allow()))


_NARROWING = st.sampled_from(
    [
        {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"StringEquals": {"aws:SourceAccount": OWNER}},
        {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111111111111:distribution/E1"}},
    ]
)
_PRINCIPALS = st.sampled_from(["*", {"AWS": "*"}, {"AWS": OWNER}, {"AWS": [OWNER, "*"]}])
_ACTIONS = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", ["s3:GetObject", "s3:DeleteObject"]])


@given(st.lists(st.tuples(_PRINCIPALS, _ACTIONS), min_size=1, max_size=5))
def test_deny_only_policies_are_never_public(statements: list[tuple[Any, Any]]) -> None:
    text = document(
        *({**allow(principal), "Action": action, "Effect": "Deny"} for principal, action in statements)
    )
    assert not policy_rules.is_public(text)


@given(st.lists(st.tuples(_PRINCIPALS, _ACTIONS, _NARROWING), min_size=1, max_size=5))
def test_a_fixed_narrowing_condition_makes_any_grant_non_public(
    statements: list[tuple[Any, Any, Any]],
) -> None:
    text = document(
        *(allow(principal, condition, Action=action) for principal, action, condition in statements)
    )
    assert not policy_rules.is_public(text)


@pytest.mark.parametrize(
    ("pattern", "kinds"),
    [
        ("s3:GetObject", {OBJECT}),
        ("s3:getobject", {OBJECT}),
        ("s3:ListBucket", {BUCKET}),
        ("s3:Get*", {BUCKET, OBJECT}),
        ("s3:*Object", {OBJECT}),
        ("*", {BUCKET, OBJECT}),
        ("s3:ListAllMyBuckets", set()),
        ("s3:Nope", None),
        ("s3:Nope*", None),
        ("iam:GetUser", None),
    ],
)
def test_action_resource_types(pattern: str, kinds: set[str] | None) -> None:
    found = resource_types(pattern)
    assert (None if found is None else set(found)) == kinds


def test_validate_returns_document_and_reports_first_error() -> None:
    text = document(allow({"AWS": OWNER}))
    assert policy_rules.validate(text, BUCKET_NAME)["Statement"][0]["Effect"] == "Allow"
    bad = document({**allow({"AWS": OWNER}), "Effect": "Maybe", "Resource": "*"})
    with pytest.raises(ServiceError) as excinfo:
        policy_rules.validate(bad, BUCKET_NAME)
    assert (excinfo.value.code, excinfo.value.message) == ("MalformedPolicy", "Invalid effect: Maybe")


def test_new_bucket_settings_and_deleted_settings() -> None:
    assert block_settings({}) == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert block_settings({"PublicAccessBlock": None}) is None


def _restrict(on: bool) -> dict[str, Any]:
    return {"PublicAccessBlock": {"RestrictPublicBuckets": on}}


def test_effective_policy_without_restriction_is_the_stored_policy() -> None:
    text = document(allow())
    assert effective_policy({**_restrict(False), "Policy": text}, OWNER) == text
    assert effective_policy({"PublicAccessBlock": None, "Policy": text}, OWNER) == text
    assert effective_policy(_restrict(True), OWNER) is None


def test_effective_policy_keeps_non_public_policies() -> None:
    text = document(allow({"AWS": OTHER}))
    assert effective_policy({**_restrict(True), "Policy": text}, OWNER) == text


def test_restrict_public_buckets_narrows_grants_to_the_owner() -> None:
    deny = {**allow(), "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    grants = [
        allow(),
        allow({"AWS": [OTHER, f"arn:aws:iam::{OWNER}:user/alice"]}),
        allow({"CanonicalUser": [canonical_id(OWNER), canonical_id(OTHER)]}),
        allow({"Service": "logging.s3.amazonaws.com"}),
        allow({"AWS": OTHER}),
        {key: value for key, value in allow().items() if key != "Principal"}
        | {"NotPrincipal": {"AWS": OWNER}},
    ]
    result = effective_policy({**_restrict(True), "Policy": document(deny, *grants)}, OWNER)
    assert result is not None
    statements = json.loads(result)["Statement"]
    assert statements[0] == deny
    assert [statement["Principal"] for statement in statements[1:]] == [
        {"AWS": [f"arn:aws:iam::{OWNER}:root"]},
        {"AWS": [f"arn:aws:iam::{OWNER}:user/alice"]},
        {"CanonicalUser": [canonical_id(OWNER)]},
        {"Service": ["logging.s3.amazonaws.com"]},
    ]


def test_restricted_policy_with_nothing_left_is_none() -> None:
    text = document(
        {key: value for key, value in allow().items() if key != "Principal"}
        | {"NotPrincipal": {"AWS": OWNER}}
    )
    assert effective_policy({**_restrict(True), "Policy": text}, OWNER) is None


@given(st.lists(st.tuples(_PRINCIPALS, _ACTIONS), min_size=1, max_size=5))
def test_restricted_policy_never_grants_anyone_or_other_accounts(statements: list[tuple[Any, Any]]) -> None:
    text = document(allow(), *(allow(principal, Action=action) for principal, action in statements))
    result = effective_policy({**_restrict(True), "Policy": text}, OWNER)
    assert result is not None
    assert not policy_rules.is_public(result)
    for statement in json.loads(result)["Statement"]:
        for entry in statement["Principal"].get("AWS", []):
            assert entry in (OWNER, f"arn:aws:iam::{OWNER}:root")
