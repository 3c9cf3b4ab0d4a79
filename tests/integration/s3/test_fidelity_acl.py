"""An object another account wrote into a bucket with ACLs enabled belongs to that account: the
bucket owner reads it (or its ACL, or copies it) only where the object's ACL grants it, with or
without IAM enforcement, and may still list and delete it; an object handed over under
BucketOwnerPreferred, and every object once the bucket is BucketOwnerEnforced, is the bucket
owner's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Account, unique
from tests.integration.s3.account_fixtures import owner, server, visitor

__all__ = ["owner", "server", "visitor"]


def denied(call: Callable[..., Any], **kwargs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    if "Code" in response["Error"] and response["Error"]["Code"] != "403":
        assert response["Error"]["Code"] == "AccessDenied"


def canonical(account: Account) -> str:
    return str(account.root("s3").list_buckets()["Owner"]["ID"])


def shared_bucket(owner: Account, visitor: Account, ownership: str = "ObjectWriter") -> str:
    """A bucket of ``owner`` with ACLs enabled that ``visitor`` may write into."""
    s3 = owner.root("s3")
    bucket = unique("fa")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
    )
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={canonical(visitor)}")
    return bucket


def assert_owner_locked_out(mine: Any, bucket: str, key: str) -> None:
    denied(mine.get_object, Bucket=bucket, Key=key)
    denied(mine.head_object, Bucket=bucket, Key=key)
    denied(mine.get_object_acl, Bucket=bucket, Key=key)
    denied(mine.put_object_acl, Bucket=bucket, Key=key, ACL="private")
    denied(mine.copy_object, Bucket=bucket, Key="copy-" + key, CopySource={"Bucket": bucket, "Key": key})


def test_bucket_owner_cannot_read_a_private_object_another_account_wrote(
    owner: Account, visitor: Account
) -> None:
    bucket = shared_bucket(owner, visitor)
    theirs = visitor.root("s3")
    theirs.put_object(Bucket=bucket, Key="private", Body=b"visitor's")
    mine = owner.root("s3")
    assert_owner_locked_out(mine, bucket, "private")
    # Listing the bucket shows it (with its owner); the writer still reads it.
    listed = mine.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert [(o["Key"], o["Owner"]["ID"]) for o in listed] == [("private", canonical(visitor))]
    assert theirs.get_object(Bucket=bucket, Key="private")["Body"].read() == b"visitor's"
    # The object's owner grants the bucket owner READ: reads work, the ACL stays closed.
    theirs.put_object_acl(Bucket=bucket, Key="private", GrantRead=f"id={canonical(owner)}")
    assert mine.get_object(Bucket=bucket, Key="private")["Body"].read() == b"visitor's"
    assert mine.head_object(Bucket=bucket, Key="private")["ContentLength"] == 9
    mine.copy_object(Bucket=bucket, Key="mine", CopySource={"Bucket": bucket, "Key": "private"})
    denied(mine.get_object_acl, Bucket=bucket, Key="private")
    # The bucket owner may always delete what is in its bucket.
    mine.delete_object(Bucket=bucket, Key="private")
    assert [o["Key"] for o in mine.list_objects_v2(Bucket=bucket)["Contents"]] == ["mine"]


def test_bucket_owner_full_control_lets_the_bucket_owner_in(owner: Account, visitor: Account) -> None:
    bucket = shared_bucket(owner, visitor)
    theirs = visitor.root("s3")
    theirs.put_object(Bucket=bucket, Key="granted", Body=b"g", ACL="bucket-owner-full-control")
    theirs.put_object(Bucket=bucket, Key="readable", Body=b"r", ACL="bucket-owner-read")
    mine = owner.root("s3")
    assert mine.get_object(Bucket=bucket, Key="granted")["Body"].read() == b"g"
    acl = mine.get_object_acl(Bucket=bucket, Key="granted")
    assert acl["Owner"]["ID"] == canonical(visitor)
    assert mine.get_object(Bucket=bucket, Key="readable")["Body"].read() == b"r"
    denied(mine.get_object_acl, Bucket=bucket, Key="readable")


def test_bucket_owner_preferred_and_enforced_keep_the_bucket_owner_in(
    owner: Account, visitor: Account
) -> None:
    bucket = shared_bucket(owner, visitor, "BucketOwnerPreferred")
    theirs = visitor.root("s3")
    theirs.put_object(Bucket=bucket, Key="handed", Body=b"h", ACL="bucket-owner-full-control")
    theirs.put_object(Bucket=bucket, Key="kept", Body=b"k")
    mine = owner.root("s3")
    assert mine.get_object(Bucket=bucket, Key="handed")["Body"].read() == b"h"
    assert mine.get_object_acl(Bucket=bucket, Key="handed")["Owner"]["ID"] == canonical(owner)
    assert_owner_locked_out(mine, bucket, "kept")
    # BucketOwnerEnforced makes the bucket owner own every object, whoever wrote it.
    mine.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    assert mine.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"k"
    assert mine.get_object_acl(Bucket=bucket, Key="kept")["Owner"]["ID"] == canonical(owner)


def test_a_bucket_policy_does_not_open_another_accounts_object_to_the_bucket_owner_under_enforcement(
    owner: Account, visitor: Account
) -> None:
    bucket = shared_bucket(owner, visitor)
    visitor.root("s3").put_object(Bucket=bucket, Key="private", Body=b"v")
    owner.enforce()
    try:
        mine = owner.root("s3")
        assert_owner_locked_out(mine, bucket, "private")
        # A user of the bucket owner's account with s3:* is locked out too.
        policy = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        )
        user = owner.client("s3", owner.user(policy))
        denied(user.get_object, Bucket=bucket, Key="private")
        assert [o["Key"] for o in user.list_objects_v2(Bucket=bucket)["Contents"]] == ["private"]
        visitor.root("s3").put_object_acl(Bucket=bucket, Key="private", GrantRead=f"id={canonical(owner)}")
        assert mine.get_object(Bucket=bucket, Key="private")["Body"].read() == b"v"
        assert user.get_object(Bucket=bucket, Key="private")["Body"].read() == b"v"
    finally:
        owner.enforce(False)
