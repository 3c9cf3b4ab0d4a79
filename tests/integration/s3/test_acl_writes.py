"""ACLs on writes (PutObject, CopyObject, CreateMultipartUpload, CreateBucket) as S3 answers them:
refused while the bucket owner enforces ownership, accepted once ACLs are enabled."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique

WRITES = ("put_object", "copy_object", "create_multipart_upload")


def write(s3: Any, bucket: str, operation: str, **acl: str) -> None:
    if operation == "put_object":
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", **acl)
    elif operation == "copy_object":
        s3.put_object(Bucket=bucket, Key="src", Body=b"x")
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "src"}, **acl)
    else:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="k", **acl)
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload["UploadId"])


@pytest.mark.parametrize("operation", WRITES)
def test_acl_on_an_owner_enforced_bucket_is_refused(s3: Any, bucket: str, operation: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        write(s3, bucket, operation, ACL="public-read")
    assert error_of(excinfo) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as excinfo:
        write(s3, bucket, operation, GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    assert error_of(excinfo) == ("AccessControlListNotSupported", 400)


@pytest.mark.parametrize("operation", WRITES)
def test_bucket_owner_full_control_is_accepted(s3: Any, bucket: str, operation: str) -> None:
    write(s3, bucket, operation, ACL="bucket-owner-full-control")


@pytest.mark.parametrize("operation", WRITES)
def test_acls_accepted_once_enabled(s3: Any, operation: str) -> None:
    name = unique("writer")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    write(s3, name, operation, ACL="private")
    with pytest.raises(ClientError) as excinfo:
        write(s3, name, operation, ACL="public-read")
    assert error_of(excinfo) == ("AccessDenied", 403), "BlockPublicAcls is on for new buckets"
    s3.delete_public_access_block(Bucket=name)
    write(s3, name, operation, ACL="public-read")


def test_create_bucket_records_its_object_ownership(s3: Any) -> None:
    name = unique("own")
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]


def test_create_bucket_acl_needs_acls_enabled(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=unique("acl"), ACL="public-read")
    assert error_of(excinfo) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.create_bucket(Bucket=unique("acl"), ACL="private")
    name = unique("acl")
    s3.create_bucket(Bucket=name, ACL="authenticated-read", ObjectOwnership="ObjectWriter")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"} in [
        grant["Grantee"] for grant in grants
    ]
