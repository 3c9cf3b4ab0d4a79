"""The IAM query API through boto3: entities, keys, policies and their errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import make_client, unique
from tests.support.server import running_server

FAKE_KEY = "AKIAEXAMPLEEXAMPLE12"
READ_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "sts:AssumeRole"}],
}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_user_lifecycle(iam: Any) -> None:
    name = unique("alice")
    user = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "team", "Value": "data"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::000000000000:user/team/{name}"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "team", "Value": "data"}]
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]]
    iam.tag_user(UserName=name, Tags=[{"Key": "cost", "Value": "42"}])
    iam.untag_user(UserName=name, TagKeys=["team"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "cost", "Value": "42"}]
    iam.update_user(UserName=name, NewPath="/moved/")
    assert iam.get_user(UserName=name)["User"]["Path"] == "/moved/"
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as caught:
        iam.get_user(UserName=name)
    assert error_of(caught) == ("NoSuchEntity", 404, f"The user with name {name} cannot be found.")


def test_root_get_user_without_a_name(iam: Any) -> None:
    assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::000000000000:root"


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (lambda iam, n: iam.create_user(UserName=n), "EntityAlreadyExists", 409),
        (lambda iam, n: iam.create_user(UserName=n.upper()), "EntityAlreadyExists", 409),
        (lambda iam, n: iam.create_user(UserName="bad name!"), "ValidationError", 400),
        (lambda iam, n: iam.create_user(UserName="x", Path="no-slash"), "ValidationError", 400),
        (lambda iam, n: iam.delete_user(UserName=n + "-none"), "NoSuchEntity", 404),
        (lambda iam, n: iam.list_users(MaxItems=5000), "ValidationError", 400),
        (
            lambda iam, n: iam.tag_user(UserName=n, Tags=[{"Key": "aws:x", "Value": "y"}]),
            "InvalidInput",
            400,
        ),
        (
            lambda iam, n: iam.attach_user_policy(UserName=n, PolicyArn="arn:aws:iam::aws:policy/Nope"),
            "NoSuchEntity",
            404,
        ),
        (
            lambda iam, n: iam.detach_user_policy(
                UserName=n, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
            ),
            "NoSuchEntity",
            404,
        ),
        (lambda iam, n: iam.get_user_policy(UserName=n, PolicyName="none"), "NoSuchEntity", 404),
        (
            lambda iam, n: iam.put_user_policy(UserName=n, PolicyName="p", PolicyDocument="{"),
            "MalformedPolicyDocument",
            400,
        ),
        (
            lambda iam, n: iam.put_user_policy(
                UserName=n,
                PolicyName="p",
                PolicyDocument=json.dumps({**READ_S3, "Statement": [{"Effect": "Allow"}]}),
            ),
            "MalformedPolicyDocument",
            400,
        ),
        (lambda iam, n: iam.remove_user_from_group(UserName=n, GroupName=n), "NoSuchEntity", 404),
        (lambda iam, n: iam.delete_access_key(UserName=n, AccessKeyId=FAKE_KEY), "NoSuchEntity", 404),
        (
            lambda iam, n: iam.update_access_key(UserName=n, AccessKeyId=FAKE_KEY, Status="Maybe"),
            "ValidationError",
            400,
        ),
    ],
)
def test_user_errors(iam: Any, call: Callable[[Any, str], Any], code: str, status: int) -> None:
    name = unique("err")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as caught:
        call(iam, name)
    assert error_of(caught)[:2] == (code, status)


def test_delete_conflicts(iam: Any) -> None:
    name = unique("busy")
    group = unique("grp")
    iam.create_user(UserName=name)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(UserName=name, GroupName=group)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(READ_S3))
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "Cannot delete entity, must delete access keys first.",
            lambda: iam.delete_access_key(UserName=name, AccessKeyId=key),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            lambda: iam.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            lambda: iam.delete_user_policy(UserName=name, PolicyName="inline"),
        ),
        (
            "Cannot delete entity, must remove user from all groups first.",
            lambda: iam.remove_user_from_group(UserName=name, GroupName=group),
        ),
    ]
    with pytest.raises(ClientError) as caught:
        iam.delete_group(GroupName=group)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    )
    for message, fix in steps:
        with pytest.raises(ClientError) as caught:
            iam.delete_user(UserName=name)
        assert error_of(caught) == ("DeleteConflict", 409, message)
        fix()
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=group)


def test_groups(iam: Any) -> None:
    group = unique("devs")
    users = [unique("u") for _ in range(3)]
    iam.create_group(GroupName=group, Path="/eng/")
    for user in users:
        iam.create_user(UserName=user)
        iam.add_user_to_group(UserName=user, GroupName=group)
    first = iam.get_group(GroupName=group, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    rest = iam.get_group(GroupName=group, Marker=first["Marker"])
    assert sorted(u["UserName"] for u in first["Users"] + rest["Users"]) == sorted(users)
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=users[0])["Groups"]] == [group]
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == [
        {"PolicyName": "AmazonSQSFullAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess"}
    ]
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=json.dumps(READ_S3))
    assert iam.get_group_policy(GroupName=group, PolicyName="read")["PolicyDocument"] == READ_S3
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["read"]


def test_roles_and_instance_profiles(iam: Any) -> None:
    role = unique("ops")
    created = iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT),
        MaxSessionDuration=7200,
        Description="ops",
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:role/{role}"
    assert created["RoleId"].startswith("AROA")
    fetched = iam.get_role(RoleName=role)["Role"]
    assert fetched["AssumeRolePolicyDocument"] == TRUST_ACCOUNT
    assert fetched["MaxSessionDuration"] == 7200
    iam.update_role(RoleName=role, MaxSessionDuration=3600)
    assert iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"] == 3600
    with pytest.raises(ClientError) as caught:
        iam.update_role(RoleName=role, MaxSessionDuration=50000)
    assert error_of(caught)[:2] == ("ValidationError", 400)
    with pytest.raises(ClientError) as caught:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(READ_S3))
    assert error_of(caught) == ("MalformedPolicyDocument", 400, "Has prohibited field Resource")
    no_principal = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    with pytest.raises(ClientError) as caught:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(no_principal))
    assert error_of(caught) == ("MalformedPolicyDocument", 400, "Missing required field Principal")
    profile = unique("profile")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    with pytest.raises(ClientError) as caught:
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert error_of(caught)[:2] == ("LimitExceeded", 409)
    assert (
        iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"][0]["RoleName"]
        == role
    )
    assert [
        p["InstanceProfileName"]
        for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    ] == [profile]
    with pytest.raises(ClientError) as caught:
        iam.delete_role(RoleName=role)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    with pytest.raises(ClientError) as caught:
        iam.delete_instance_profile(InstanceProfileName=profile)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.put_role_permissions_boundary(
        RoleName=role, PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess"
    )
    boundary = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]
    assert boundary["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/PowerUserAccess"
    iam.delete_role_permissions_boundary(RoleName=role)
    iam.delete_role(RoleName=role)


def test_managed_policy_versions(iam: Any) -> None:
    name = unique("policy")
    policy = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(READ_S3), Description="reads")[
        "Policy"
    ]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/{name}"
    assert policy["DefaultVersionId"] == "v1" and policy["PolicyId"].startswith("ANPA")
    with pytest.raises(ClientError) as caught:
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(READ_S3))
    assert error_of(caught)[:2] == ("EntityAlreadyExists", 409)
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_S3))
    with pytest.raises(ClientError) as caught:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_S3))
    assert error_of(caught)[:2] == ("LimitExceeded", 409)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["Document"] == READ_S3 and got["IsDefaultVersion"] is True
    with pytest.raises(ClientError) as caught:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(caught) == ("DeleteConflict", 409, "Cannot delete the default version of a policy.")
    with pytest.raises(ClientError) as caught:
        iam.get_policy_version(PolicyArn=arn, VersionId="v9")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    user = unique("holder")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught) == ("DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    for version in ("v1", "v2", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.get_policy(PolicyArn=arn)
    assert error_of(caught) == ("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")


def test_policy_size_quota(iam: Any) -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "b" * 200}
    big = {"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"S{i}") for i in range(40)]}
    with pytest.raises(ClientError) as caught:
        iam.create_policy(PolicyName=unique("big"), PolicyDocument=json.dumps(big))
    assert error_of(caught) == ("LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")


def test_aws_managed_policies(iam: Any) -> None:
    arns = {p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    for name in (
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonSQSFullAccess",
        "AmazonSNSFullAccess",
        "PowerUserAccess",
    ):
        assert f"arn:aws:iam::aws:policy/{name}" in arns
    admin = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess", VersionId="v1")
    assert admin["PolicyVersion"]["Document"]["Statement"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ]
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert error_of(caught)[:2] == ("AccessDenied", 403)


def test_access_keys(iam: Any, client_factory: Callable[..., Any]) -> None:
    name = unique("keys")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as caught:
        iam.create_access_key(UserName=name)
    assert error_of(caught) == ("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
    assert len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]) == 2
    sts = client_factory(
        "sts", aws_access_key_id=first["AccessKeyId"], aws_secret_access_key=first["SecretAccessKey"]
    )
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::000000000000:user/{name}"
    last = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last["UserName"] == name and last["AccessKeyLastUsed"]["ServiceName"] == "sts"
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert error_of(caught)[:2] == ("InvalidClientTokenId", 403)
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Account"] == "000000000000"
    iam.delete_access_key(UserName=name, AccessKeyId=first["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert error_of(caught)[:2] == ("InvalidClientTokenId", 403)


def test_user_keys_manage_their_own_keys(iam: Any, client_factory: Callable[..., Any]) -> None:
    name = unique("self")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    own = client_factory(
        "iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    assert [k["AccessKeyId"] for k in own.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    assert own.get_user()["User"]["UserName"] == name


def test_account_authorization_details(iam: Any) -> None:
    user, group, role = unique("d-user"), unique("d-group"), unique("d-role")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(UserName=user, GroupName=group)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=json.dumps(READ_S3))
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    details = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users[user]["GroupList"] == [group]
    assert users[user]["AttachedManagedPolicies"][0]["PolicyName"] == "AmazonS3ReadOnlyAccess"
    groups = {g["GroupName"]: g for g in details["GroupDetailList"]}
    assert groups[group]["GroupPolicyList"][0]["PolicyDocument"] == READ_S3
    roles = {r["RoleName"]: r for r in details["RoleDetailList"]}
    assert roles[role]["AssumeRolePolicyDocument"] == TRUST_ACCOUNT
    assert "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" in {p["Arn"] for p in details["Policies"]}
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert "UserDetailList" not in only_roles or not only_roles["UserDetailList"]


def test_simulate_principal_policy(iam: Any) -> None:
    user = unique("sim")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="no-secrets", PolicyDocument=json.dumps(deny))
    arn = f"arn:aws:iam::000000000000:user/{user}"
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::public/x", "arn:aws:s3:::secret/x"],
    )["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::public/x"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::secret/x"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::public/x"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::secret/x"): "implicitDeny",
    }
    allowed = next(r for r in results if r["EvalDecision"] == "allowed")
    assert (
        allowed["MatchedStatements"][0]["SourcePolicyId"] == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    with pytest.raises(ClientError) as caught:
        iam.simulate_principal_policy(PolicySourceArn=arn + "-none", ActionNames=["s3:GetObject"])
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_simulate_custom_policy_with_context(iam: Any) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::home",
                "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
            }
        ],
    }

    def simulate(prefix: str) -> str:
        result = iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(policy)],
            ActionNames=["s3:ListBucket"],
            ResourceArns=["arn:aws:s3:::home"],
            CallerArn="arn:aws:iam::000000000000:user/alice",
            ContextEntries=[
                {"ContextKeyName": "s3:prefix", "ContextKeyValues": [prefix], "ContextKeyType": "string"}
            ],
        )
        return str(result["EvaluationResults"][0]["EvalDecision"])

    assert simulate("home/alice/docs") == "allowed"
    assert simulate("home/bob/docs") == "implicitDeny"
    with pytest.raises(ClientError) as caught:
        iam.simulate_custom_policy(PolicyInputList=["{"], ActionNames=["s3:GetObject"])
    assert error_of(caught)[:2] == ("InvalidInput", 400)


def test_keys_and_users_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_server(data_dir) as first:
        iam = make_client(first.endpoint, "iam")
        iam.create_user(UserName="persisted")
        key = iam.create_access_key(UserName="persisted")["AccessKey"]
    with running_server(data_dir) as second:
        sts = make_client(second.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/persisted"
        assert (
            make_client(second.endpoint, "iam").get_user(UserName="persisted")["User"]["UserName"]
            == "persisted"
        )
