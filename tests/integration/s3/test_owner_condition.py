"""The bucket owner condition through boto3: every implemented S3 operation that takes
``ExpectedBucketOwner`` refuses a bucket another account owns with 403 ``AccessDenied`` and a value
that is not an account id with 400 ``InvalidBucketOwnerAWSAccountID``, before anything else about
the request; the right owner changes nothing. CopyObject and UploadPartCopy check the source
bucket by ``ExpectedSourceBucketOwner``."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import Shape

from kumoi.codegen.coverage import coverage
from kumoi.services.s3.provider import S3Provider
from tests.integration.s3.conftest import error_of

OWNER = "000000000000"  # the account of the session server's root keys
OTHER = "111111111111"
#: Optional members some calls need to get as far as their bucket (kumoi checks a legal hold's
#: status before anything else, as it checks that any body is well formed).
_NEEDED = {"PutObjectLegalHold": {"LegalHold": {"Status": "ON"}}}


def _dummy(shape: Shape) -> Any:
    """A value of ``shape`` botocore accepts: its required members only, the shortest allowed."""
    if shape.type_name == "structure":
        return {name: _dummy(shape.members[name]) for name in shape.required_members}
    if shape.type_name == "list":
        return [_dummy(shape.member)]
    if shape.type_name == "map":
        return {"k": _dummy(shape.value)}
    if shape.type_name in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if shape.type_name == "boolean":
        return False
    if shape.type_name == "timestamp":
        return "2030-01-01T00:00:00Z"
    if shape.type_name == "blob":
        return b"x"
    enum = shape.enum
    return enum[0] if enum else "x" * max(1, shape.metadata.get("min", 1))


def _guarded_operations(s3: Any) -> list[str]:
    """The implemented operations whose input has ``ExpectedBucketOwner``."""
    (row,) = coverage({"s3": S3Provider})
    model = s3.meta.service_model
    return [
        name
        for name in row.implemented
        if (shape := model.operation_model(name).input_shape) is not None
        and "ExpectedBucketOwner" in shape.members
    ]


def _call(s3: Any, operation: str, bucket: str, owner: str) -> None:
    model = s3.meta.service_model
    shape = model.operation_model(operation).input_shape
    params = {**_dummy(shape), **_NEEDED.get(operation, {})}
    params["Bucket"] = bucket
    params["ExpectedBucketOwner"] = owner
    if "CopySource" in params:
        params["CopySource"] = f"{bucket}/source"
    getattr(s3, xform_name(operation))(**params)


def test_every_operation_that_takes_it_is_guarded(s3: Any) -> None:
    assert len(_guarded_operations(s3)) >= 60


@pytest.mark.parametrize("owner", [OTHER, "abc"], ids=["other-account", "not-an-account"])
def test_each_guarded_operation_refuses(s3: Any, bucket: str, owner: str) -> None:
    s3.put_object(Bucket=bucket, Key="source", Body=b"data")
    expected = ("AccessDenied", 403) if owner == OTHER else ("InvalidBucketOwnerAWSAccountID", 400)
    wrong: dict[str, tuple[str, int]] = {}
    for operation in _guarded_operations(s3):
        with pytest.raises(ClientError) as excinfo:
            _call(s3, operation, bucket, owner)
        code, status = error_of(excinfo)
        if operation.startswith("Head"):  # no body: botocore names the error by its status
            code = expected[0] if code == str(status) else code
        if (code, status) != expected:
            wrong[operation] = (code, status)
    assert wrong == {}
    assert s3.get_object(Bucket=bucket, Key="source")["Body"].read() == b"data"


def test_the_message_quotes_the_refused_value(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket, ExpectedBucketOwner="12345678901x")
    assert excinfo.value.response["Error"]["Message"] == (
        "The value of the expected bucket owner parameter must be an AWS Account ID... [12345678901x]"
    )


def test_a_missing_bucket_is_still_no_such_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="no-such-bucket-owner-test", Key="k", ExpectedBucketOwner=OTHER)
    assert error_of(excinfo) == ("NoSuchBucket", 404)


def test_the_right_owner_changes_nothing(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ExpectedBucketOwner=OWNER)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=OWNER)["Body"].read() == b"v"
    listed = s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=OWNER)
    assert [item["Key"] for item in listed["Contents"]] == ["k"]
    s3.delete_object(Bucket=bucket, Key="k", ExpectedBucketOwner=OWNER)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_copy_checks_each_bucket_by_its_own_header(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload")
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ExpectedSourceBucketOwner=OTHER)
    assert error_of(excinfo) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ExpectedSourceBucketOwner="x")
    assert error_of(excinfo) == ("InvalidBucketOwnerAWSAccountID", 400)
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        ExpectedBucketOwner=OWNER,
        ExpectedSourceBucketOwner=OWNER,
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"payload"


def test_upload_part_copy_checks_its_source_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"part")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    part = {
        "Bucket": bucket,
        "Key": "dst",
        "UploadId": upload,
        "PartNumber": 1,
        "CopySource": f"{bucket}/src",
    }
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(**part, ExpectedSourceBucketOwner=OTHER)
    assert error_of(excinfo) == ("AccessDenied", 403)
    copied = s3.upload_part_copy(**part, ExpectedSourceBucketOwner=OWNER)
    assert copied["CopyPartResult"]["ETag"]
