"""Properties of evaluation: an explicit Deny that matches is never overridden."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.auth.policy import AccessRequest, PolicySet, compile_policy, evaluate
from tests.unit.auth.policy_cases import ACCOUNT, ALICE, ANONYMOUS, OTHER, ROOT, STRANGER

ACTIONS = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "iam:CreateUser", "sts:AssumeRole"]
RESOURCES = ["arn:aws:s3:::data/a", "arn:aws:s3:::data/b/c", "arn:aws:sqs:us-east-1:111111111111:q", "*"]
PATTERNS = ["*", "s3:*", "s3:Get*", "s3:*Object", "sqs:*", "iam:?reateUser", "sts:AssumeRole", "s3:PutObject"]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::data/*",
    "arn:aws:s3:::data/?",
    "arn:aws:sqs:*:*:q",
    "arn:aws:s3:::other",
]
PRINCIPALS = [ALICE, ROOT, STRANGER, ANONYMOUS]

statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
        "Resource": st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2),
    }
)
principal_specs = st.sampled_from(["*", {"AWS": ACCOUNT}, {"AWS": OTHER}, {"AWS": ALICE.arn}])


def _identity(items: list[dict[str, object]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": items})


@settings(max_examples=300, deadline=None)
@given(
    identity=st.lists(statements, min_size=0, max_size=4),
    resource=st.lists(st.tuples(statements, principal_specs), min_size=0, max_size=3),
    boundary=st.none() | st.lists(statements, min_size=1, max_size=2),
    session=st.none() | st.lists(statements, min_size=1, max_size=2),
    deny_in=st.sampled_from(["identity", "resource", "boundary", "session"]),
    action=st.sampled_from(ACTIONS),
    target=st.sampled_from(RESOURCES),
    principal=st.sampled_from(PRINCIPALS),
    owner=st.sampled_from(["", ACCOUNT, OTHER]),
)
def test_a_matching_explicit_deny_is_never_allowed(
    identity: list[dict[str, object]],
    resource: list[tuple[dict[str, object], object]],
    boundary: list[dict[str, object]] | None,
    session: list[dict[str, object]] | None,
    deny_in: str,
    action: str,
    target: str,
    principal: object,
    owner: str,
) -> None:
    deny: dict[str, object] = {"Effect": "Deny", "Action": action, "Resource": target}
    resource_items = [{**item, "Principal": spec} for item, spec in resource]
    if deny_in == "identity":
        identity = [*identity, deny]
    elif deny_in == "resource":
        resource_items.append({**deny, "Principal": "*"})
    elif deny_in == "boundary":
        boundary = [*(boundary or []), deny]
    else:
        session = [*(session or []), deny]
    policies = PolicySet(
        (compile_policy(_identity(identity)),) if identity else (),
        (compile_policy(_identity(resource_items), "resource"),) if resource_items else (),
        compile_policy(_identity(boundary)) if boundary else None,
        (compile_policy(_identity(session)),) if session else None,
    )
    request = AccessRequest(action, target, principal, {}, owner)  # type: ignore[arg-type]
    decision = evaluate(request, policies)
    assert decision.decision == "explicitDeny"
    assert not decision.allowed


@settings(max_examples=200, deadline=None)
@given(
    identity=st.lists(statements, min_size=1, max_size=4),
    action=st.sampled_from(ACTIONS),
    target=st.sampled_from(RESOURCES),
)
def test_an_allow_needs_a_matching_allow_statement(
    identity: list[dict[str, object]], action: str, target: str
) -> None:
    request = AccessRequest(action, target, ALICE, {})
    decision = evaluate(request, PolicySet((compile_policy(_identity(identity)),)))
    if decision.allowed:
        assert decision.matched and all(match.effect.value == "Allow" for match in decision.matched)
