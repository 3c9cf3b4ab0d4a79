"""Account-level Block Public Access through S3 Control (Put/Get/DeletePublicAccessBlock): stored
durably per account, combined with each bucket's settings (the most restrictive wins) for public
policies, public ACLs and what they grant, applied at once; other S3 Control operations answer
NotImplemented.

SDKs send S3 Control requests to ``<account>.<endpoint host>``; the clients here connect to the
loopback address with that Host header, which is what resolving ``<account>.localhost`` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import REGION, Account, unique
from tests.integration.s3.account_fixtures import server
from tests.support.access import anonymous_client, error_of_call, policy_document, public_read_policy
from tests.support.server import ServerProcess, running_server

__all__ = ["server"]


@pytest.fixture
def account(server: ServerProcess) -> Account:
    return Account(server.endpoint)


def _to_loopback(request: AWSRequest, **_: Any) -> None:
    parts = urlsplit(request.url)
    request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


def control(port: int, key: str, secret: str = "secret", *, signed: bool = True) -> Any:
    """An S3 Control client whose ``<account>.localhost`` requests reach the server."""
    config = Config(retries={"max_attempts": 1}, signature_version=None if signed else UNSIGNED)
    client = boto3.session.Session().client(
        "s3control",
        endpoint_url=f"http://localhost:{port}",
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )
    client.meta.events.register("before-send.s3-control", _to_loopback)
    return client


def put_account(server: ServerProcess, account: Account, **flags: bool) -> None:
    control(server.port, account.id).put_public_access_block(
        AccountId=account.id, PublicAccessBlockConfiguration=flags
    )


def open_bucket(account: Account, *, acls: bool = False) -> str:
    """A bucket with its own Block Public Access deleted (and ACLs enabled if asked)."""
    s3 = account.root("s3")
    bucket = unique("pab")
    s3.create_bucket(Bucket=bucket)
    s3.delete_public_access_block(Bucket=bucket)
    if acls:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
    return bucket


def test_round_trip(server: ServerProcess, account: Account) -> None:
    client = control(server.port, account.id)
    assert error_of_call(client.get_public_access_block, AccountId=account.id) == (
        "NoSuchPublicAccessBlockConfiguration",
        404,
    )
    put_account(server, account, BlockPublicPolicy=True, RestrictPublicBuckets=True)
    assert client.get_public_access_block(AccountId=account.id)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    client.delete_public_access_block(AccountId=account.id)
    assert error_of_call(client.get_public_access_block, AccountId=account.id)[0] == (
        "NoSuchPublicAccessBlockConfiguration"
    )
    client.delete_public_access_block(AccountId=account.id)


def test_only_the_own_account_and_only_signed(server: ServerProcess, account: Account) -> None:
    other = Account(server.endpoint)
    client = control(server.port, account.id)
    assert error_of_call(client.get_public_access_block, AccountId=other.id) == ("AccessDenied", 403)
    flags = {"BlockPublicAcls": True}
    assert error_of_call(
        client.put_public_access_block, AccountId=other.id, PublicAccessBlockConfiguration=flags
    ) == ("AccessDenied", 403)
    unsigned = control(server.port, account.id, signed=False)
    assert error_of_call(unsigned.get_public_access_block, AccountId=account.id)[1] == 403


def test_other_operations_are_not_implemented(server: ServerProcess, account: Account) -> None:
    client = control(server.port, account.id)
    assert error_of_call(client.list_access_points, AccountId=account.id) == ("NotImplemented", 501)


def test_s3_paths_are_not_taken(server: ServerProcess, account: Account) -> None:
    s3 = account.root("s3")
    s3.create_bucket(Bucket="v20180820")
    try:
        s3.put_object(Bucket="v20180820", Key="configuration/publicAccessBlock", Body=b"x")
        assert s3.get_object(Bucket="v20180820", Key="configuration/publicAccessBlock")["Body"].read() == b"x"
    finally:
        s3.delete_object(Bucket="v20180820", Key="configuration/publicAccessBlock")
        s3.delete_bucket(Bucket="v20180820")


def test_account_block_public_policy(server: ServerProcess, account: Account) -> None:
    bucket = open_bucket(account)
    s3 = account.root("s3")
    put_account(server, account, BlockPublicPolicy=True)
    assert error_of_call(s3.put_bucket_policy, Bucket=bucket, Policy=public_read_policy(bucket)) == (
        "AccessDenied",
        403,
    )
    # The bucket's own settings still say nothing is blocked.
    with pytest.raises(ClientError):
        s3.get_public_access_block(Bucket=bucket)
    control(server.port, account.id).delete_public_access_block(AccountId=account.id)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))


def test_account_restrict_public_buckets(server: ServerProcess, account: Account) -> None:
    bucket = open_bucket(account)
    s3 = account.root("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    anyone = anonymous_client(server.endpoint)
    assert anyone.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    put_account(server, account, RestrictPublicBuckets=True)
    assert error_of_call(anyone.get_object, Bucket=bucket, Key="k") == ("AccessDenied", 403)
    assert error_of_call(Account(server.endpoint).root("s3").get_object, Bucket=bucket, Key="k")[1] == 403
    put_account(server, account)
    assert anyone.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_account_acl_settings(server: ServerProcess, account: Account) -> None:
    bucket = open_bucket(account, acls=True)
    s3 = account.root("s3")
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", ACL="public-read")
    anyone = anonymous_client(server.endpoint)
    assert anyone.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    put_account(server, account, IgnorePublicAcls=True)
    assert error_of_call(anyone.get_object, Bucket=bucket, Key="open") == ("AccessDenied", 403)
    put_account(server, account, BlockPublicAcls=True)
    assert anyone.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    assert error_of_call(s3.put_object, Bucket=bucket, Key="more", Body=b"m", ACL="public-read") == (
        "AccessDenied",
        403,
    )
    assert error_of_call(s3.put_bucket_acl, Bucket=bucket, ACL="public-read") == ("AccessDenied", 403)
    s3.put_object(Bucket=bucket, Key="more", Body=b"m")


def test_enforced_account_needs_the_account_actions(server: ServerProcess, account: Account) -> None:
    account.enforce()
    plain = account.user()
    denied_client = control(server.port, plain["AccessKeyId"], plain["SecretAccessKey"])
    assert error_of_call(denied_client.get_public_access_block, AccountId=account.id) == ("AccessDenied", 403)
    allowed = account.user(
        policy_document(
            {
                "Effect": "Allow",
                "Action": ["s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"],
                "Resource": "*",
            }
        )
    )
    client = control(server.port, allowed["AccessKeyId"], allowed["SecretAccessKey"])
    client.put_public_access_block(
        AccountId=account.id, PublicAccessBlockConfiguration={"BlockPublicAcls": True}
    )
    assert client.get_public_access_block(AccountId=account.id)["PublicAccessBlockConfiguration"][
        "BlockPublicAcls"
    ]


def test_settings_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    account = "123456789012"
    flags = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True}
    with running_server(data_dir, args=("--accept-any-key",)) as first:
        control(first.port, account).put_public_access_block(
            AccountId=account, PublicAccessBlockConfiguration=flags
        )
    with running_server(data_dir, args=("--accept-any-key",)) as second:
        stored = control(second.port, account).get_public_access_block(AccountId=account)
        assert stored["PublicAccessBlockConfiguration"] == {**flags, "RestrictPublicBuckets": False}
        s3 = Account(second.endpoint, account).root("s3")
        bucket = unique("after")
        s3.create_bucket(Bucket=bucket)
        s3.delete_public_access_block(Bucket=bucket)
        assert error_of_call(s3.put_bucket_policy, Bucket=bucket, Policy=public_read_policy(bucket)) == (
            "AccessDenied",
            403,
        )
