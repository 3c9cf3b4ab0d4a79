"""Fixtures for IAM/STS tests: root clients on the shared server, and a second server that enforces
IAM policies (``--enforce-iam``), with helpers to make users with keys and move the clock."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess, running_server

REGION = "us-east-1"


def make_client(
    endpoint: str, service: str, key: str = "test", secret: str = "test", token: str | None = None
) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def advance_clock(endpoint: str, seconds: float) -> None:
    body = json.dumps({"advance": seconds}).encode()
    request = urllib.request.Request(f"{endpoint}/_kumoi/clock", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def iam(client_factory: Callable[..., Any]) -> Any:
    return client_factory("iam")


@pytest.fixture(scope="session")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("kumoi-enforce") / "data"
    with running_server(data_dir, args=("--test-clock", "--enforce-iam")) as process:
        yield process


class Identities:
    """Makes users (with keys, groups and policies) and clients on the enforcing server."""

    def __init__(self, server: ServerProcess) -> None:
        self.endpoint = server.endpoint
        self.root_iam = make_client(server.endpoint, "iam")

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        if credentials is None:
            return make_client(self.endpoint, service)
        return make_client(
            self.endpoint,
            service,
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials.get("SessionToken"),
        )

    def user(
        self, name: str, *managed: str, inline: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, str]:
        self.root_iam.create_user(UserName=name, **kwargs)
        for arn in managed:
            self.root_iam.attach_user_policy(UserName=name, PolicyArn=arn)
        if inline is not None:
            self.root_iam.put_user_policy(
                UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline)
            )
        key: dict[str, str] = self.root_iam.create_access_key(UserName=name)["AccessKey"]
        return key


@pytest.fixture(scope="session")
def identities(enforcing: ServerProcess) -> Identities:
    return Identities(enforcing)


#: The account the per-account server enforces by its settings (``--enforce-iam-accounts``).
CONFIGURED_ACCOUNT = "999999999999"


def set_enforcement(endpoint: str, account: str, enforce: bool = True) -> tuple[int, dict[str, Any]]:
    """``POST /_kumoi/enforcement``: the status and the answer."""
    body = json.dumps({"account": account, "enforce": enforce}).encode()
    request = urllib.request.Request(f"{endpoint}/_kumoi/enforcement", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def new_account() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


class Account:
    """One account on the per-account server: its root clients, and users made in it."""

    def __init__(self, endpoint: str, account_id: str | None = None) -> None:
        self.endpoint = endpoint
        self.id = account_id or new_account()

    def root(self, service: str) -> Any:
        return make_client(self.endpoint, service, self.id, "secret")

    def enforce(self, enforce: bool = True) -> None:
        assert set_enforcement(self.endpoint, self.id, enforce)[0] == 200

    def user(self, inline: str | None = None) -> dict[str, str]:
        """A user with an access key and, if given, the inline policy document ``inline``."""
        iam = self.root("iam")
        name = unique("user")
        iam.create_user(UserName=name)
        if inline is not None:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        key: dict[str, str] = iam.create_access_key(UserName=name)["AccessKey"]
        return key

    def client(self, service: str, key: dict[str, str]) -> Any:
        return make_client(self.endpoint, service, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="session")
def per_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that enforces IAM for :data:`CONFIGURED_ACCOUNT` only (and for the accounts tests
    switch on), letting any 12-digit key in as that account's root."""
    data_dir = tmp_path_factory.mktemp("kumoi-per-account") / "data"
    args = ("--test-clock", "--accept-any-key", "--enforce-iam-accounts", CONFIGURED_ACCOUNT)
    with running_server(data_dir, args=args) as process:
        yield process
