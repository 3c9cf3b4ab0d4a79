"""Bucket ownership controls and ACLs through boto3: BucketOwnerEnforced by default (ACLs
disabled: reads show the owner's FULL_CONTROL, writes other than the owner's full control fail
with AccessControlListNotSupported), and stored grants once ACLs are enabled."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def owner_id(s3: Any) -> str:
    return str(s3.list_buckets()["Owner"]["ID"])


def ownership(s3: Any, bucket: str) -> str:
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert len(rules) == 1
    return str(rules[0]["ObjectOwnership"])


def set_ownership(s3: Any, bucket: str, value: str) -> None:
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": value}]})


def owner_full_control(owner: str) -> dict[str, Any]:
    return {
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"}],
    }


def not_supported(call: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        call()
    assert error_of(excinfo) == ("AccessControlListNotSupported", 400)
    assert excinfo.value.response["Error"]["Message"] == "The bucket does not allow ACLs"


def test_new_bucket_is_bucket_owner_enforced(s3: Any, bucket: str) -> None:
    assert ownership(s3, bucket) == "BucketOwnerEnforced"


@pytest.mark.parametrize("value", ["ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"])
def test_put_each_value(s3: Any, bucket: str, value: str) -> None:
    set_ownership(s3, bucket, value)
    assert ownership(s3, bucket) == value


@pytest.mark.parametrize(
    "rules",
    [
        [{"ObjectOwnership": "Nobody"}],
        [{"ObjectOwnership": "ObjectWriter"}, {"ObjectOwnership": "BucketOwnerEnforced"}],
        [],
    ],
)
def test_invalid_controls(s3: Any, bucket: str, rules: list[dict[str, str]]) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": rules})
    assert error_of(excinfo) == ("MalformedXML", 400)
    assert ownership(s3, bucket) == "BucketOwnerEnforced"


def test_delete_controls(s3: Any, bucket: str) -> None:
    assert s3.delete_bucket_ownership_controls(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error_of(excinfo) == ("OwnershipControlsNotFoundError", 404)
    set_ownership(s3, bucket, "BucketOwnerPreferred")
    assert ownership(s3, bucket) == "BucketOwnerPreferred"


def test_bucket_acl_is_owner_full_control(s3: Any, bucket: str) -> None:
    owner = owner_id(s3)
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == owner
    assert acl["Grants"] == [
        {
            "Grantee": {"Type": "CanonicalUser", "ID": owner, "DisplayName": acl["Owner"]["DisplayName"]},
            "Permission": "FULL_CONTROL",
        }
    ]


def test_object_acl_is_owner_full_control(s3: Any, bucket: str) -> None:
    owner = owner_id(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert acl["Owner"]["ID"] == owner
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [(owner, "FULL_CONTROL")]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_acl(Bucket=bucket, Key="missing")
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_enforced_bucket_refuses_acl_writes(s3: Any, bucket: str) -> None:
    owner = owner_id(s3)
    not_supported(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="private"))
    not_supported(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"))
    not_supported(lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"'))
    public = owner_full_control(owner)
    public["Grants"].append({"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"})
    not_supported(lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=public))


def test_enforced_bucket_accepts_owner_full_control(s3: Any, bucket: str) -> None:
    owner = owner_id(s3)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=owner_full_control(owner))
    s3.put_bucket_acl(Bucket=bucket, GrantFullControl=f'id="{owner}"')
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=owner_full_control(owner))
    not_supported(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="private"))
    not_supported(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read"))
    not_supported(lambda: s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f'id="{"b" * 64}"'))
    assert len(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == 1


def test_object_writer_stores_grants(s3: Any, bucket: str) -> None:
    owner = owner_id(s3)
    set_ownership(s3, bucket, "ObjectWriter")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"]) for g in grants] == [
        (owner, "FULL_CONTROL"),
        (ALL_USERS, "READ"),
    ]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'id="{"c" * 64}"', GrantFullControl=f'id="{owner}"')
    object_grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert sorted((g["Grantee"]["ID"], g["Permission"]) for g in object_grants) == sorted(
        [(owner, "FULL_CONTROL"), ("c" * 64, "READ")]
    )
    set_ownership(s3, bucket, "BucketOwnerEnforced")
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1
    assert len(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == 1


def test_block_public_acls_refuses_public_grants(s3: Any, bucket: str) -> None:
    set_ownership(s3, bucket, "ObjectWriter")
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(excinfo) == ("AccessDenied", 403)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")


def test_invalid_grants(s3: Any, bucket: str) -> None:
    set_ownership(s3, bucket, "ObjectWriter")
    for kwargs, code in (
        ({"GrantRead": "who=me"}, "InvalidArgument"),
        ({"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/Nobody"'}, "InvalidArgument"),
        ({"GrantRead": 'id="short"'}, "InvalidArgument"),
        ({"ACL": "private", "GrantRead": f'id="{"d" * 64}"'}, "InvalidRequest"),
    ):
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_acl(Bucket=bucket, **kwargs)
        assert error_of(excinfo) == (code, 400)


def test_no_such_bucket(s3: Any) -> None:
    for call in (
        lambda: s3.get_bucket_ownership_controls(Bucket="h8-no-such-bucket"),
        lambda: s3.delete_bucket_ownership_controls(Bucket="h8-no-such-bucket"),
        lambda: s3.get_bucket_acl(Bucket="h8-no-such-bucket"),
        lambda: s3.put_bucket_acl(Bucket="h8-no-such-bucket", ACL="private"),
        lambda: s3.get_object_acl(Bucket="h8-no-such-bucket", Key="k"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("NoSuchBucket", 404)
