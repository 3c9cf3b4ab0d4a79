"""ACL grants as policy statements: AWS's permission → action mapping, who each grant matches when
the policy engine evaluates it, and the account/bucket Block Public Access combination."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kumoi.auth.policy import AccessRequest, PolicySet, Principal, compile_policy, evaluate
from kumoi.services.s3.acl_access import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    CANONICAL_KEY,
    actions_for,
    combined,
    is_public,
    statements,
)
from kumoi.services.s3.owner import canonical_id
from kumoi.services.s3.public_access import FLAGS, combine

OWNER = "111111111111"
OTHER = "222222222222"
THIRD = "333333333333"
BUCKET = "arn:aws:s3:::bkt"
PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")


def user(account: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "CanonicalUser", "ID": canonical_id(account)}, "Permission": permission}


def group(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def decide(policy: str | None, action: str, resource: str, caller: str | None) -> str:
    """The engine's decision for ``caller``'s root user (None: anonymous) on a resource of OWNER."""
    if caller is None:
        principal = Principal("", "", "anonymous")
        context: dict[str, list[str]] = {}
    else:
        principal = Principal(f"arn:aws:iam::{caller}:root", caller, "root")
        context = {CANONICAL_KEY: [canonical_id(caller)]}
    resources = (compile_policy(policy, "resource"),) if policy else ()
    request = AccessRequest(action, resource, principal, context, OWNER)
    return evaluate(request, PolicySet((), resources)).decision


def test_mapping_follows_the_user_guide() -> None:
    assert actions_for("READ", on_object=False) == (
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
    )
    assert "s3:PutObject" in actions_for("WRITE", on_object=False)
    assert actions_for("WRITE", on_object=True) == ()
    assert actions_for("READ", on_object=True) == (
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTorrent",
    )
    assert actions_for("READ_ACP", on_object=True) == ("s3:GetObjectAcl", "s3:GetObjectVersionAcl")
    assert actions_for("WRITE_ACP", on_object=False) == ("s3:PutBucketAcl",)
    for on_object in (False, True):
        every = set(actions_for("FULL_CONTROL", on_object=on_object))
        for permission in PERMISSIONS[:-1]:
            assert set(actions_for(permission, on_object=on_object)) <= every


def test_a_grant_to_an_account_matches_that_account_only() -> None:
    found = statements(
        [user(OTHER, "READ")], on_object=True, resource=BUCKET + "/*", owner=OWNER, ignore_public=False
    )
    policy = combined(None, found)
    assert decide(policy, "s3:GetObject", BUCKET + "/k", OTHER) == "allowed"
    assert decide(policy, "s3:GetObject", BUCKET + "/k", THIRD) == "implicitDeny"
    assert decide(policy, "s3:GetObject", BUCKET + "/k", None) == "implicitDeny"
    assert decide(policy, "s3:PutObjectAcl", BUCKET + "/k", OTHER) == "implicitDeny"


def test_groups() -> None:
    grants = [group(ALL_USERS, "READ"), group(AUTHENTICATED_USERS, "READ_ACP")]
    policy = combined(
        None, statements(grants, on_object=True, resource="*", owner=OWNER, ignore_public=False)
    )
    assert decide(policy, "s3:GetObject", BUCKET + "/k", None) == "allowed"
    assert decide(policy, "s3:GetObject", BUCKET + "/k", THIRD) == "allowed"
    assert decide(policy, "s3:GetObjectAcl", BUCKET + "/k", THIRD) == "allowed"
    assert decide(policy, "s3:GetObjectAcl", BUCKET + "/k", None) == "implicitDeny"


def test_owner_grants_and_ignored_grantees_make_no_statement() -> None:
    grants = [
        user(OWNER, "FULL_CONTROL"),
        {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@b.c"}, "Permission": "READ"},
        group("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"),
        user(OTHER, "WRITE"),
    ]
    assert statements(grants, on_object=True, resource="*", owner=OWNER, ignore_public=False) == ()


def test_ignore_public_acls_drops_only_groups() -> None:
    grants = [group(ALL_USERS, "READ"), user(OTHER, "READ")]
    kept = statements(grants, on_object=True, resource="*", owner=OWNER, ignore_public=True)
    assert len(kept) == 1
    assert CANONICAL_KEY in kept[0]
    assert is_public(grants)
    assert not is_public([user(OTHER, "READ")])


def test_an_explicit_deny_in_the_policy_wins() -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": BUCKET + "/secret"}
            ],
        }
    )
    found = statements(
        [user(OTHER, "READ")], on_object=True, resource=BUCKET + "/*", owner=OWNER, ignore_public=False
    )
    merged = combined(policy, found)
    assert decide(merged, "s3:GetObject", BUCKET + "/secret", OTHER) == "explicitDeny"
    assert decide(merged, "s3:GetObject", BUCKET + "/open", OTHER) == "allowed"


grant_lists = st.lists(
    st.builds(
        lambda who, permission: group(who, permission) if who.startswith("http") else user(who, permission),
        st.sampled_from([OWNER, OTHER, THIRD, ALL_USERS, AUTHENTICATED_USERS]),
        st.sampled_from(PERMISSIONS),
    ),
    max_size=8,
)


@given(grant_lists, st.booleans(), st.booleans())
def test_statements_always_compile_and_keep_the_policy(
    grants: list[dict[str, Any]], on_object: bool, ignore: bool
) -> None:
    policy = json.dumps(
        {
            "Version": "2008-10-17",
            "Statement": {
                "Sid": "p",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:ListBucket",
                "Resource": BUCKET,
            },
        }
    )
    found = statements(
        grants, on_object=on_object, resource=[BUCKET, BUCKET + "/*"], owner=OWNER, ignore_public=ignore
    )
    merged = combined(policy, found)
    assert merged is not None
    compiled = compile_policy(merged, "resource")
    assert len(compiled.statements) == 1 + len(found)
    assert compiled.version == "2008-10-17"
    assert canonical_id(OWNER) not in merged
    if ignore:
        assert "Null" not in merged
        assert all('"Condition"' in text for text in found)


@given(
    st.none() | st.fixed_dictionaries({flag: st.booleans() for flag in FLAGS}),
    st.none() | st.fixed_dictionaries({flag: st.booleans() for flag in FLAGS}),
)
def test_the_most_restrictive_settings_apply(
    bucket: dict[str, bool] | None, account: dict[str, bool] | None
) -> None:
    config: dict[str, Any] = {"PublicAccessBlock": bucket}
    effective = combine(config, account)
    for flag in FLAGS:
        assert effective[flag] == (bool((bucket or {}).get(flag)) or bool((account or {}).get(flag)))
    assert combine({}, None) == dict.fromkeys(FLAGS, True)
