"""CreateBucket's region and ownership rules, as S3 answers them.

A request signed for us-east-1 stands for the global endpoint, which creates a bucket in any
region its LocationConstraint names; a request signed for another region stands for that region's
endpoint, which only creates buckets there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique
from tests.support.server import ServerProcess, running_server

OTHER_ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def any_key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("buckets") / "data", args=("--accept-any-key",)) as server:
        yield server


def client(server: ServerProcess, region: str, key: str = "000000000000") -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def create(s3: Any, name: str, constraint: str | None) -> None:
    if constraint is None:
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": constraint})


def test_global_endpoint_creates_in_the_named_region(any_key_server: ServerProcess) -> None:
    s3 = client(any_key_server, "us-east-1")
    name = unique("geo")
    create(s3, name, "eu-west-1")
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"


def test_global_endpoint_without_constraint_is_us_east_1(any_key_server: ServerProcess) -> None:
    s3 = client(any_key_server, "us-east-1")
    name = unique("geo")
    create(s3, name, None)
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None


@pytest.mark.parametrize(
    ("region", "constraint", "code"),
    [
        ("us-east-1", "us-east-1", "InvalidLocationConstraint"),
        ("eu-west-1", None, "IllegalLocationConstraintException"),
        ("eu-west-1", "ap-northeast-1", "IllegalLocationConstraintException"),
    ],
)
def test_location_constraint_errors(
    any_key_server: ServerProcess, region: str, constraint: str | None, code: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(client(any_key_server, region), unique("geo"), constraint)
    assert error_of(excinfo) == (code, 400)


def test_regional_endpoint_creates_in_its_region(any_key_server: ServerProcess) -> None:
    s3 = client(any_key_server, "ap-northeast-1")
    name = unique("geo")
    create(s3, name, "ap-northeast-1")
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-northeast-1"


def test_recreating_your_bucket_outside_us_east_1(any_key_server: ServerProcess) -> None:
    s3 = client(any_key_server, "eu-west-1")
    name = unique("own")
    create(s3, name, "eu-west-1")
    with pytest.raises(ClientError) as excinfo:
        create(s3, name, "eu-west-1")
    assert error_of(excinfo) == ("BucketAlreadyOwnedByYou", 409)


def test_another_accounts_name_is_taken(any_key_server: ServerProcess) -> None:
    name = unique("taken")
    create(client(any_key_server, "us-east-1"), name, None)
    with pytest.raises(ClientError) as excinfo:
        create(client(any_key_server, "us-east-1", OTHER_ACCOUNT), name, None)
    assert error_of(excinfo) == ("BucketAlreadyExists", 409)


def test_bucket_names_are_checked(any_key_server: ServerProcess) -> None:
    s3 = client(any_key_server, "us-east-1")
    for name in ("ab", "a" * 64, "Upper", "under_score", "192.168.5.4", "xn--abc", "dots..inside", "end-"):
        with pytest.raises(ClientError) as excinfo:
            s3.create_bucket(Bucket=name)
        assert error_of(excinfo) == ("InvalidBucketName", 400), name
