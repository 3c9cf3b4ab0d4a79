"""Put/Get/DeletePublicAccessBlock (bucket level) through boto3: new buckets block everything,
as S3 does since April 2023; the four flags round-trip; Delete leaves no configuration."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of
from tests.support.access import public_read_policy

FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def test_new_bucket_blocks_everything(s3: Any, bucket: str) -> None:
    config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert config == dict.fromkeys(FLAGS, True)


def test_put_round_trips_each_flag(s3: Any, bucket: str) -> None:
    for flag in FLAGS:
        wanted = {name: name == flag for name in FLAGS}
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted)
        assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == wanted


def test_missing_flags_are_false(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert config == {name: name == "BlockPublicAcls" for name in FLAGS}


def test_delete_leaves_no_configuration(s3: Any, bucket: str) -> None:
    response = s3.delete_public_access_block(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.get_public_access_block(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchPublicAccessBlockConfiguration", 404)
    assert excinfo.value.response["Error"]["Message"] == "The public access block configuration was not found"
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(FLAGS, False))
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == dict.fromkeys(
        FLAGS, False
    )


def test_block_public_policy_applies_to_new_policies_only(s3: Any, bucket: str) -> None:
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(FLAGS, True))
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == public_read_policy(bucket)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    assert error_of(excinfo) == ("AccessDenied", 403)


def test_other_flags_do_not_block_public_policy(s3: Any, bucket: str) -> None:
    config = {name: name != "BlockPublicPolicy" for name in FLAGS}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))


def test_no_such_bucket(s3: Any) -> None:
    for call in (
        lambda: s3.get_public_access_block(Bucket="h8-no-such-bucket"),
        lambda: s3.delete_public_access_block(Bucket="h8-no-such-bucket"),
        lambda: s3.put_public_access_block(
            Bucket="h8-no-such-bucket", PublicAccessBlockConfiguration={"BlockPublicAcls": True}
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("NoSuchBucket", 404)
