"""Policy documents: IAM's validation answers, and compilation details."""

from __future__ import annotations

import json

import pytest

from kumoi.auth.policy import PolicySyntaxError, parse_policy
from kumoi.auth.policy.glob import arn_match, glob_match
from kumoi.auth.policy.variables import compile_template
from tests.unit.auth.policy_cases import allow, doc, identity


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("{not json", "identity", "This policy contains invalid Json"),
        ("[]", "identity", "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17"}), "identity", "Syntax errors in policy."),
        (
            json.dumps({"Version": "2020-01-01", "Statement": [allow("s3:*")]}),
            "identity",
            "The policy failed legacy parsing",
        ),
        (json.dumps({"Statement": [allow("s3:*")], "Extra": 1}), "identity", "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Resource": "*"}), "identity", "Policy statement must contain actions."),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "identity", "Policy statement must contain resources."),
        (doc({"Effect": "Permit", "Action": "s3:*", "Resource": "*"}), "identity", "Invalid effect: Permit"),
        (
            doc(allow("GetObject")),
            "identity",
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (doc(allow("s 3:GetObject")), "identity", "Vendor s 3 is not valid"),
        (doc(allow("s3:*", "bucket/*")), "identity", 'Resource bucket/* must be in ARN format or "*".'),
        (doc(allow("s3:*", Principal="*")), "identity", "Policy document should not specify a principal."),
        (doc(allow("s3:*")), "resource", "Missing required field Principal"),
        (doc(allow("sts:AssumeRole", Principal="*")), "trust", "Has prohibited field Resource"),
        (
            doc({**allow("s3:*"), "Sid": "a"}, {**allow("s3:*"), "Sid": "a"}),
            "identity",
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            doc({**allow("s3:*"), "Sid": "has space"}),
            "identity",
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
            "expression [0-9A-Za-z]*",
        ),
        (
            doc(allow("s3:*", Condition={"StringFoo": {"aws:x": "y"}})),
            "identity",
            "Invalid Condition type : StringFoo",
        ),
        (
            doc(allow("s3:*", Condition={"StringEquals": {"nokey": "y"}})),
            "identity",
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            doc(allow("s3:*", Principal={"AWS": "bob"})),
            "resource",
            'Invalid principal in policy: "AWS":"bob"',
        ),
        (doc(allow("s3:*", Principal={"Nobody": "x"})), "resource", "Invalid principal in policy"),
        ("[" * 100000, "identity", "This policy contains invalid Json"),
    ],
)
def test_malformed_documents(text: str, kind: str, message: str) -> None:
    with pytest.raises(PolicySyntaxError) as caught:
        parse_policy(text, kind)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_valid_documents_compile() -> None:
    policy = parse_policy(doc(allow(["s3:Get*", "s3:List*"], ["arn:aws:s3:::a", "arn:aws:s3:::a/*"])))
    assert len(policy.statements) == 1
    assert policy.statements[0].actions == ("s3:Get*", "s3:List*")
    single = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": allow("*")}))
    assert single.statements[0].actions == ("*",)
    trust = parse_policy(
        doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "123456789012"}}), "trust"
    )
    assert trust.statements[0].resources is None


def test_compilation_is_cached() -> None:
    text = doc(allow("s3:GetObject"))
    assert parse_policy(text) is parse_policy(text)


def test_globs() -> None:
    assert glob_match("a*c", "abbbc")
    assert not glob_match("a?c", "abbc")
    assert glob_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y")
    assert glob_match("S3:GET*", "s3:GetObject", ignore_case=True)
    assert glob_match("a.b", "a.b") and not glob_match("a.b", "axb")
    assert arn_match("arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/alice")
    assert not arn_match("arn:aws:iam::*:user/*", "arn:aws:sts::123456789012:assumed-role/r/s")
    assert not arn_match("arn:aws:iam::*:user/*", "not-an-arn")


def test_templates() -> None:
    context = {"aws:username": ["alice"], "aws:principaltag/team": ["data"]}
    assert compile_template("home/${aws:username}/*", True).resolve(context) == "home/alice/*"
    assert compile_template("${aws:PrincipalTag/team}", True).resolve(context) == "data"
    assert compile_template("${aws:missing, 'none'}", True).resolve(context) == "none"
    assert compile_template("${aws:missing}", True).resolve(context) is None
    assert compile_template("a${*}b${?}c${$}", True).resolve({}) == "a*b?c$"
    assert compile_template("${aws:username}", False).resolve(context) == "${aws:username}"
    with pytest.raises(PolicySyntaxError):
        compile_template("${a b}", True)


@pytest.mark.parametrize(
    ("statement", "static"),
    [
        (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:111111111111:jobs"), True),
        (allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"), False),
        (
            allow(
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:111111111111:jobs",
                Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            ),
            False,
        ),
    ],
)
def test_static_policies(statement: dict[str, object], static: bool) -> None:
    """Only decisions of policies without conditions or variables may be reused."""
    assert identity(statement).static is static
