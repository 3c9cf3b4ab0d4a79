"""Console passwords through boto3: login profiles, ChangePassword and the account password
policy, with their errors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import unique
from tests.integration.iam.test_iam_api import error_of
from tests.support.server import ServerProcess

GOOD = "Kumoi-Passw0rd!"


@pytest.fixture
def user(iam: Any) -> Iterator[str]:
    name = unique("login")
    iam.create_user(UserName=name)
    yield name
    with contextlib.suppress(ClientError):
        iam.delete_login_profile(UserName=name)
    iam.delete_user(UserName=name)


@pytest.fixture(scope="module")
def unchecked_iam(client_factory: Callable[..., Any]) -> Any:
    """A client that sends values botocore would refuse, to see the server's own checks."""
    return client_factory("iam", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


@pytest.fixture
def policy_reset(iam: Any) -> Iterator[None]:
    yield
    with contextlib.suppress(ClientError):
        iam.delete_account_password_policy()


def test_login_profile_lifecycle(iam: Any, user: str) -> None:
    profile = iam.create_login_profile(UserName=user, Password=GOOD, PasswordResetRequired=True)[
        "LoginProfile"
    ]
    assert profile["UserName"] == user and profile["PasswordResetRequired"] is True
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is True
    iam.update_login_profile(UserName=user, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is False
    iam.update_login_profile(UserName=user, Password="An0ther-Secret")
    iam.delete_login_profile(UserName=user)
    with pytest.raises(ClientError) as caught:
        iam.get_login_profile(UserName=user)
    assert error_of(caught) == ("NoSuchEntity", 404, f"Login Profile for User {user} cannot be found.")


def test_login_profile_errors(iam: Any, user: str) -> None:
    iam.create_login_profile(UserName=user, Password=GOOD)
    with pytest.raises(ClientError) as caught:
        iam.create_login_profile(UserName=user, Password=GOOD)
    assert error_of(caught)[:2] == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as caught:
        iam.create_login_profile(UserName=unique("nobody"), Password=GOOD)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as caught:
        iam.update_login_profile(UserName=user, Password="weak")
    assert error_of(caught)[:2] == ("PasswordPolicyViolation", 400)
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete login profile first.",
    )


def test_default_policy_refuses_weak_passwords(iam: Any, user: str) -> None:
    for weak in ("short1A", "alllowercaseletters", "lowercase123"):
        with pytest.raises(ClientError) as caught:
            iam.create_login_profile(UserName=user, Password=weak)
        assert error_of(caught)[:2] == ("PasswordPolicyViolation", 400)


def test_password_policy_lifecycle(iam: Any, user: str, policy_reset: None) -> None:
    with pytest.raises(ClientError) as caught:
        iam.get_account_password_policy()
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    iam.update_account_password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=2,
        HardExpiry=False,
    )
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12
    assert policy["ExpirePasswords"] is True and policy["MaxPasswordAge"] == 90
    assert policy["PasswordReusePrevention"] == 2 and policy["HardExpiry"] is False
    for weak in ("Short-1a", "no-digits-Here!", "N0-SYMBOLSHERE1a".replace("-", "")):
        with pytest.raises(ClientError) as caught:
            iam.create_login_profile(UserName=user, Password=weak)
        assert error_of(caught)[:2] == ("PasswordPolicyViolation", 400)
    iam.create_login_profile(UserName=user, Password="Long-Enough-1")
    with pytest.raises(ClientError) as caught:
        iam.update_login_profile(UserName=user, Password="Long-Enough-1")
    assert error_of(caught)[:2] == ("PasswordPolicyViolation", 400)
    iam.update_login_profile(UserName=user, Password="Long-Enough-2")
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as caught:
        iam.delete_account_password_policy()
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


@pytest.mark.parametrize(
    ("arguments", "member"),
    [
        ({"MinimumPasswordLength": 5}, "minimumPasswordLength"),
        ({"MinimumPasswordLength": 129}, "minimumPasswordLength"),
        ({"MaxPasswordAge": 1096}, "maxPasswordAge"),
        ({"PasswordReusePrevention": 25}, "passwordReusePrevention"),
    ],
)
def test_password_policy_limits(
    unchecked_iam: Any, arguments: dict[str, int], member: str, policy_reset: None
) -> None:
    with pytest.raises(ClientError) as caught:
        unchecked_iam.update_account_password_policy(**arguments)
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationError", 400) and member in message


def test_change_password_as_the_user(
    iam: Any, user: str, server: ServerProcess, client_factory: Callable[..., Any]
) -> None:
    iam.create_login_profile(UserName=user, Password=GOOD, PasswordResetRequired=True)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        own = client_factory(
            "iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        with pytest.raises(ClientError) as caught:
            own.change_password(OldPassword="Wrong-Passw0rd!", NewPassword="Brand-New-Pass1")
        assert error_of(caught)[:2] == ("AccessDenied", 403)
        with pytest.raises(ClientError) as caught:
            own.change_password(OldPassword=GOOD, NewPassword="weak")
        assert error_of(caught)[:2] == ("PasswordPolicyViolation", 400)
        own.change_password(OldPassword=GOOD, NewPassword="Brand-New-Pass1")
        assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is False
        own.change_password(OldPassword="Brand-New-Pass1", NewPassword="Brand-New-Pass2")
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        iam.change_password(OldPassword=GOOD, NewPassword="Brand-New-Pass1")
    assert error_of(caught)[:2] == ("InvalidUserType", 400)


def test_change_password_without_a_login_profile(
    iam: Any, user: str, client_factory: Callable[..., Any]
) -> None:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        own = client_factory(
            "iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        with pytest.raises(ClientError) as caught:
            own.change_password(OldPassword=GOOD, NewPassword="Brand-New-Pass1")
        assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
