"""Account-wide IAM through boto3: the account alias, GetAccountSummary, context keys of
policies, tags of instance profiles and identity providers, OIDC thumbprints, service-linked
roles; and that the authorization details stay correct next to them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import make_client, new_account, unique
from tests.integration.iam.test_iam_api import error_of
from tests.support.saml import Idp
from tests.support.server import ServerProcess, running_server

CONDITIONED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::home",
            "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
        },
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@pytest.fixture(scope="module")
def unchecked_iam(client_factory: Callable[..., Any]) -> Any:
    """A client that sends values botocore would refuse, to see the server's own checks."""
    return client_factory("iam", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that lets any account's root in, for account-wide state of fresh accounts."""
    data_dir = tmp_path_factory.mktemp("kumoi-accounts") / "data"
    with running_server(data_dir, args=("--accept-any-key",)) as process:
        yield process


def root_iam(server: ServerProcess, account: str) -> Any:
    return make_client(server.endpoint, "iam", account, "secret")


# --- aliases ---------------------------------------------------------------------------------------


def test_account_alias_lifecycle(accounts: ServerProcess) -> None:
    iam = root_iam(accounts, new_account())
    alias = unique("corp").lower()
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias=alias)
    iam.create_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    with pytest.raises(ClientError) as caught:
        iam.create_account_alias(AccountAlias=alias + "-two")
    assert error_of(caught) == ("LimitExceeded", 409, "Cannot exceed quota for AccountAliasesPerAccount: 1")
    other = root_iam(accounts, new_account())
    with pytest.raises(ClientError) as caught:
        other.create_account_alias(AccountAlias=alias)
    assert error_of(caught) == ("EntityAlreadyExists", 409, f"The account alias {alias} already exists.")
    with pytest.raises(ClientError) as caught:
        iam.delete_account_alias(AccountAlias=alias + "-two")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []


@pytest.mark.parametrize("alias", ["-corp", "corp-", "co--rp", "Corp", "ab", "a" * 64, "corp_name"])
def test_account_alias_naming_rules(unchecked_iam: Any, alias: str) -> None:
    with pytest.raises(ClientError) as caught:
        unchecked_iam.create_account_alias(AccountAlias=alias)
    assert error_of(caught)[:2] == ("ValidationError", 400)


# --- summary ---------------------------------------------------------------------------------------


def test_account_summary_counts(accounts: ServerProcess) -> None:
    iam = root_iam(accounts, new_account())
    before = iam.get_account_summary()["SummaryMap"]
    assert before["Users"] == 0 and before["UsersQuota"] == 5000 and before["AccessKeysPerUserQuota"] == 2
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="devs")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(_trust("ec2.amazonaws.com")))
    iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(CONDITIONED))
    iam.create_instance_profile(InstanceProfileName="web")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]
    iam.create_open_id_connect_provider(Url="https://token.example.com", ThumbprintList=[THUMBPRINT])
    summary = iam.get_account_summary()["SummaryMap"]
    expected = {
        "Users": 1,
        "Groups": 1,
        "Roles": 1,
        "Policies": 1,
        "PolicyVersionsInUse": 1,
        "InstanceProfiles": 1,
        "MFADevices": 1,
        "MFADevicesInUse": 0,
        "Providers": 1,
        "ServerCertificates": 0,
    }
    assert {key: summary[key] for key in expected} == expected
    assert device["SerialNumber"].endswith(":mfa/spare")


# --- context keys ----------------------------------------------------------------------------------


def test_context_keys_for_custom_policy(iam: Any) -> None:
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[json.dumps(CONDITIONED)])[
        "ContextKeyNames"
    ]
    assert keys == ["aws:MultiFactorAuthPresent", "aws:username", "s3:prefix"]
    with pytest.raises(ClientError) as caught:
        iam.get_context_keys_for_custom_policy(PolicyInputList=["{nope"])
    assert error_of(caught)[:2] == ("InvalidInput", 400)


def test_context_keys_for_principal_policy(iam: Any) -> None:
    user, group = unique("ctx"), unique("ctx-group")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(UserName=user, GroupName=group)
    region_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            }
        ],
    }
    iam.put_group_policy(GroupName=group, PolicyName="region", PolicyDocument=json.dumps(region_only))
    try:
        arn = iam.get_user(UserName=user)["User"]["Arn"]
        keys = iam.get_context_keys_for_principal_policy(
            PolicySourceArn=arn, PolicyInputList=[json.dumps(CONDITIONED)]
        )["ContextKeyNames"]
        assert keys == ["aws:MultiFactorAuthPresent", "aws:RequestedRegion", "aws:username", "s3:prefix"]
        with pytest.raises(ClientError) as caught:
            iam.get_context_keys_for_principal_policy(PolicySourceArn=arn + "-gone")
        assert error_of(caught)[:2] == ("NoSuchEntity", 404)
        with pytest.raises(ClientError) as caught:
            iam.get_context_keys_for_principal_policy(PolicySourceArn="arn:aws:s3:::not-a-principal")
        assert error_of(caught)[:2] == ("InvalidInput", 400)
    finally:
        iam.delete_group_policy(GroupName=group, PolicyName="region")
        iam.remove_user_from_group(UserName=user, GroupName=group)
        iam.delete_group(GroupName=group)
        iam.delete_user(UserName=user)


# --- tags of instance profiles and providers -------------------------------------------------------


def test_instance_profile_tags(iam: Any) -> None:
    name = unique("profile")
    iam.create_instance_profile(InstanceProfileName=name, Tags=[{"Key": "a", "Value": "1"}])
    try:
        iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "b", "Value": "2"}])
        iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["a"])
        assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [
            {"Key": "b", "Value": "2"}
        ]
        assert iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Tags"] == [
            {"Key": "b", "Value": "2"}
        ]
        too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        with pytest.raises(ClientError) as caught:
            iam.tag_instance_profile(InstanceProfileName=name, Tags=too_many)
        assert error_of(caught)[:2] == ("LimitExceeded", 409)
    finally:
        iam.delete_instance_profile(InstanceProfileName=name)
    with pytest.raises(ClientError) as caught:
        iam.list_instance_profile_tags(InstanceProfileName=name)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_saml_provider_tags(iam: Any) -> None:
    arn = iam.create_saml_provider(SAMLMetadataDocument=Idp().metadata(), Name=unique("idp"))[
        "SAMLProviderArn"
    ]
    try:
        iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "team", "Value": "id"}])
        assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "team", "Value": "id"}]
        iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
        assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == []
    finally:
        iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "team", "Value": "id"}])
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_oidc_provider_tags_and_thumbprints(iam: Any, unchecked_iam: Any) -> None:
    url = f"https://{unique('issuer')}.example.com"
    arn = iam.create_open_id_connect_provider(
        Url=url, ThumbprintList=[THUMBPRINT], Tags=[{"Key": "a", "Value": "1"}]
    )["OpenIDConnectProviderArn"]
    try:
        assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
            {"Key": "a", "Value": "1"}
        ]
        replacement = ["a" * 40, "b" * 40]
        iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=arn, ThumbprintList=replacement
        )
        assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == replacement
        with pytest.raises(ClientError) as caught:
            unchecked_iam.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=arn, ThumbprintList=["c" * 40] * 6
            )
        assert error_of(caught)[:2] == ("LimitExceeded", 409)
        with pytest.raises(ClientError) as caught:
            unchecked_iam.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=arn, ThumbprintList=["short"]
            )
        assert error_of(caught)[:2] == ("ValidationError", 400)
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


# --- service-linked roles --------------------------------------------------------------------------


def test_service_linked_role_lifecycle(accounts: ServerProcess) -> None:
    iam = root_iam(accounts, new_account())
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", Description="asg")[
        "Role"
    ]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": ["autoscaling.amazonaws.com"]}
    with pytest.raises(ClientError) as caught:
        iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    assert error_of(caught) == (
        "InvalidInput",
        400,
        "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a "
        "different suffix.",
    )
    custom = iam.create_service_linked_role(
        AWSServiceName="elasticbeanstalk.amazonaws.com", CustomSuffix="blue"
    )
    assert custom["Role"]["RoleName"] == "AWSServiceRoleForElasticBeanstalk_blue"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as caught:
        iam.get_role(RoleName="AWSServiceRoleForAutoScaling")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as caught:
        iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as caught:
        iam.get_service_linked_role_deletion_status(DeletionTaskId=task + "x")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as caught:
        iam.get_service_linked_role_deletion_status(DeletionTaskId="bogus")
    assert error_of(caught)[:2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as caught:
        iam.create_service_linked_role(AWSServiceName="not-a-service")
    assert error_of(caught)[:2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as caught:
        iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="x")
    assert error_of(caught)[:2] == ("InvalidInput", 400)


def test_deletion_task_fails_while_the_role_is_in_a_profile(accounts: ServerProcess) -> None:
    iam = root_iam(accounts, new_account())
    name = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]["RoleName"]
    iam.create_instance_profile(InstanceProfileName="holder")
    iam.add_role_to_instance_profile(InstanceProfileName="holder", RoleName=name)
    task = iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
    assert status["Status"] == "FAILED" and "holder" in status["Reason"]["Reason"]
    assert iam.get_role(RoleName=name)["Role"]["RoleName"] == "AWSServiceRoleForECS"


def test_authorization_details_unchanged_by_new_credentials(accounts: ServerProcess) -> None:
    iam = root_iam(accounts, new_account())
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Bob-Passw0rd!")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    details = iam.get_account_authorization_details()
    assert [user["UserName"] for user in details["UserDetailList"]] == ["bob"]
    assert [role["RoleName"] for role in details["RoleDetailList"]] == ["AWSServiceRoleForECS"]
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["bob"]


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def test_credentials_survive_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("kumoi-iam-restart") / "data"
    account = new_account()
    with running_server(data_dir, args=("--accept-any-key",)) as first:
        iam = root_iam(first, account)
        iam.create_user(UserName="carol")
        iam.create_login_profile(UserName="carol", Password="Carol-Passw0rd!")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol")["VirtualMFADevice"][
            "SerialNumber"
        ]
        iam.create_account_alias(AccountAlias=f"restart-{account}")
        iam.update_account_password_policy(MinimumPasswordLength=10)
    with running_server(data_dir, args=("--accept-any-key",)) as second:
        iam = root_iam(second, account)
        assert iam.get_login_profile(UserName="carol")["LoginProfile"]["UserName"] == "carol"
        listed = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
        assert [item["SerialNumber"] for item in listed] == [serial]
        assert iam.list_account_aliases()["AccountAliases"] == [f"restart-{account}"]
        assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 10
        with pytest.raises(ClientError) as caught:
            iam.delete_user(UserName="carol")
        assert error_of(caught)[:2] == ("DeleteConflict", 409)
