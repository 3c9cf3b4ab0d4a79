"""STS through boto3: roles, durations, chaining, session tokens, federation, expiry."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.crt.auth
import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import advance_clock, make_client, unique
from tests.support.server import ServerProcess, running_server

ACCOUNT = "000000000000"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def trust(principal: Any, **extra: Any) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def user_with_key(iam: Any) -> tuple[str, dict[str, str]]:
    name = unique("caller")
    iam.create_user(UserName=name)
    return name, iam.create_access_key(UserName=name)["AccessKey"]


def sts_for(client_factory: Callable[..., Any], credentials: dict[str, str]) -> Any:
    return client_factory(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )


def test_caller_identity_of_root(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root" and identity["Account"] == ACCOUNT


def test_assume_role(iam: Any, client_factory: Callable[..., Any]) -> None:
    role = unique("reader")
    role_id = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"][
        "RoleId"
    ]
    _, key = user_with_key(iam)
    answer = sts_for(client_factory, key).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="s1", SourceIdentity="alice"
    )
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    now = datetime.datetime.now(datetime.UTC)
    assert 3500 < (credentials["Expiration"] - now).total_seconds() <= 3600
    assert answer["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role_id}:s1",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1",
    }
    assert answer["SourceIdentity"] == "alice"
    identity = sts_for(client_factory, credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1"
    assert identity["UserId"] == f"{role_id}:s1"
    with pytest.raises(ClientError) as caught:
        sts_for(client_factory, {**credentials, "SessionToken": "forged"}).get_caller_identity()
    assert error_of(caught)[:2] == ("InvalidClientTokenId", 403)


def test_trust_policy_decides(iam: Any, client_factory: Callable[..., Any]) -> None:
    trusted_name, trusted = user_with_key(iam)
    _, other = user_with_key(iam)
    role = unique("narrow")
    arn = iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/{trusted_name}"})
    )["Role"]["Arn"]
    sts_for(client_factory, trusted).assume_role(RoleArn=arn, RoleSessionName="ok")
    with pytest.raises(ClientError) as caught:
        sts_for(client_factory, other).assume_role(RoleArn=arn, RoleSessionName="no")
    code, status, message = error_of(caught)
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {arn}")


def test_external_id(iam: Any, client_factory: Callable[..., Any]) -> None:
    role = unique("vendor")
    document = trust({"AWS": ACCOUNT}, Condition={"StringEquals": {"sts:ExternalId": "s3cret"}})
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=document)["Role"]["Arn"]
    _, key = user_with_key(iam)
    sts = sts_for(client_factory, key)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="xx")
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="xx", ExternalId="wrong-id")
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    assert sts.assume_role(RoleArn=arn, RoleSessionName="xx", ExternalId="s3cret")["Credentials"]


def test_assume_role_errors(iam: Any, sts: Any, client_factory: Callable[..., Any]) -> None:
    role = unique("limits")
    arn = iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}), MaxSessionDuration=7200
    )["Role"]["Arn"]
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="root")
    assert error_of(caught) == ("AccessDenied", 403, "Roles may not be assumed by root accounts.")
    _, key = user_with_key(iam)
    user_sts = sts_for(client_factory, key)
    cases: list[tuple[dict[str, Any], str, int]] = [
        ({"RoleArn": arn, "RoleSessionName": "xx", "DurationSeconds": 7201}, "ValidationError", 400),
        ({"RoleArn": arn, "RoleSessionName": "bad name"}, "ValidationError", 400),
        ({"RoleArn": arn + "-missing", "RoleSessionName": "xx"}, "AccessDenied", 403),
        ({"RoleArn": arn, "RoleSessionName": "xx", "Policy": "{"}, "MalformedPolicyDocument", 400),
        (
            {
                "RoleArn": arn,
                "RoleSessionName": "xx",
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
            },
            "InvalidParameterValue",
            400,
        ),
    ]
    for params, code, status in cases:
        with pytest.raises(ClientError) as caught:
            user_sts.assume_role(**params)
        assert error_of(caught)[:2] == (code, status), params
    with pytest.raises(ClientError) as caught:
        user_sts.assume_role(RoleArn=arn, RoleSessionName="xx", DurationSeconds=7201)
    assert (
        error_of(caught)[2]
        == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    long = user_sts.assume_role(RoleArn=arn, RoleSessionName="xx", DurationSeconds=7200)["Credentials"]
    now = datetime.datetime.now(datetime.UTC)
    assert 7100 < (long["Expiration"] - now).total_seconds() <= 7200


def test_role_chaining_is_capped_at_one_hour(iam: Any, client_factory: Callable[..., Any]) -> None:
    first = iam.create_role(
        RoleName=unique("hop1"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}), MaxSessionDuration=43200
    )
    second = iam.create_role(
        RoleName=unique("hop2"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}), MaxSessionDuration=43200
    )
    _, key = user_with_key(iam)
    hop = sts_for(client_factory, key).assume_role(
        RoleArn=first["Role"]["Arn"], RoleSessionName="one", DurationSeconds=43200
    )
    chained = sts_for(client_factory, hop["Credentials"])
    with pytest.raises(ClientError) as caught:
        chained.assume_role(RoleArn=second["Role"]["Arn"], RoleSessionName="two", DurationSeconds=7200)
    assert error_of(caught) == (
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    answer = chained.assume_role(RoleArn=second["Role"]["Arn"], RoleSessionName="two")
    assert answer["AssumedRoleUser"]["Arn"].endswith(f"{second['Role']['RoleName']}/two")


def test_session_token_and_federation(iam: Any, client_factory: Callable[..., Any]) -> None:
    name, key = user_with_key(iam)
    sts = sts_for(client_factory, key)
    token = sts.get_session_token(DurationSeconds=129600)["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    session_sts = sts_for(client_factory, token)
    assert session_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    with pytest.raises(ClientError) as caught:
        session_sts.get_session_token()
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        sts.get_session_token(DurationSeconds=129601)
    assert error_of(caught)[:2] == ("ValidationError", 400)
    policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    federated = sts.get_federation_token(Name="bob", Policy=policy)
    assert federated["FederatedUser"] == {
        "FederatedUserId": f"{ACCOUNT}:bob",
        "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/bob",
    }
    identity = sts_for(client_factory, federated["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/bob"


def test_access_key_info_and_decode(iam: Any, sts: Any) -> None:
    _, key = user_with_key(iam)
    assert sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == ACCOUNT
    with pytest.raises(ClientError) as caught:
        sts.decode_authorization_message(EncodedMessage="not base64!")
    assert error_of(caught)[:2] == ("InvalidAuthorizationMessageException", 400)


# --- expiry, on a server of its own whose clock these tests move ---------------------------------


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("sts-clock") / "data", args=("--test-clock",)) as server:
        yield server


def test_temporary_credentials_expire(
    clocked: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    iam = make_client(clocked.endpoint, "iam")
    role = unique("short")
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    _, key = user_with_key(iam)
    user_sts = make_client(clocked.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    credentials = user_sts.assume_role(RoleArn=arn, RoleSessionName="brief", DurationSeconds=900)[
        "Credentials"
    ]
    session = make_client(
        clocked.endpoint,
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    assert session.get_caller_identity()["Arn"].endswith(f"{role}/brief")
    advance_clock(clocked.endpoint, 901)
    original = botocore.auth.get_current_datetime
    for module in (botocore.auth, botocore.crt.auth):  # sign as if the client's clock had moved too
        monkeypatch.setattr(
            module,
            "get_current_datetime",
            lambda *a, **k: original(*a, **k) + datetime.timedelta(seconds=901),
        )
    s3 = make_client(
        clocked.endpoint,
        "s3",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as caught:
        session.get_caller_identity()
    assert error_of(caught) == ("ExpiredToken", 403, "The security token included in the request is expired")
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert error_of(caught)[:2] == ("ExpiredToken", 400)
    assert user_sts.get_caller_identity()["Account"] == ACCOUNT
