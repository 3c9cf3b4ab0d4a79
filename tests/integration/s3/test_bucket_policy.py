"""Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus through boto3: the document stored
verbatim, S3's MalformedPolicy answers, the size limit, and public policies under
BlockPublicPolicy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of

ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"


def statement(bucket: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT_ROOT},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def policy_text(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def malformed(s3: Any, bucket: str, text: str) -> str:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert error_of(excinfo) == ("MalformedPolicy", 400)
    return str(excinfo.value.response["Error"]["Message"])


def open_bucket(s3: Any, bucket: str) -> None:
    """Lift the default Block Public Access settings so public policies can be stored."""
    s3.delete_public_access_block(Bucket=bucket)


def test_put_get_delete_round_trip_verbatim(s3: Any, bucket: str) -> None:
    text = (
        '{\n  "Version": "2012-10-17",\n  "Id": "p1",\n  "Statement": [\n'
        + json.dumps(statement(bucket))
        + "\n  ]\n}"
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchBucketPolicy", 404)
    assert excinfo.value.response["Error"]["Message"] == "The bucket policy does not exist"


def test_replace_and_delete_twice(s3: Any, bucket: str) -> None:
    answer = s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket)))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    second = policy_text(statement(bucket, Action=["s3:ListBucket"], Resource=f"arn:aws:s3:::{bucket}"))
    s3.put_bucket_policy(Bucket=bucket, Policy=second)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == second
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_confirm_remove_self_access_accepted(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(
        Bucket=bucket, Policy=policy_text(statement(bucket)), ConfirmRemoveSelfBucketAccess=True
    )
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy_text(statement(bucket))


def test_policy_status_without_policy(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchBucketPolicy", 404)


def test_policy_status_private_and_public(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    open_bucket(s3, bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket, Principal="*")))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
    narrowed = statement(
        bucket, Principal={"AWS": "*"}, Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(narrowed))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}


def test_block_public_policy_refuses_public_policy(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket, Principal="*")))
    assert error_of(excinfo) == ("AccessDenied", 403)
    message = excinfo.value.response["Error"]["Message"]
    assert "s3:PutBucketPolicy" in message and "BlockPublicPolicy" in message
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(missing) == ("NoSuchBucketPolicy", 404)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicPolicy": False, "RestrictPublicBuckets": True},
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket, Principal="*")))


def test_blocked_public_policy_keeps_previous(s3: Any, bucket: str) -> None:
    private = policy_text(statement(bucket))
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    with pytest.raises(ClientError):
        s3.put_bucket_policy(Bucket=bucket, Policy=policy_text(statement(bucket, Principal={"AWS": "*"})))
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == private


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  {}", "Policies must be valid JSON and the first byte must be '{'"),
        ("[]", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Statement": [', "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
        ('{"Version": "2012-10-17", "Policy": 1, "Statement": []}', "Unknown field Policy"),
    ],
)
def test_malformed_documents(s3: Any, bucket: str, text: str, message: str) -> None:
    assert malformed(s3, bucket, text) == message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Effect": None}, "Missing required field Effect"),
        ({"Effect": "Maybe"}, "Invalid effect: Maybe"),
        ({"Principal": None}, "Missing required field Principal"),
        ({"Principal": {"AWS": "not-an-arn"}}, "Invalid principal in policy"),
        ({"Principal": {"Robot": "x"}}, "Invalid principal in policy"),
        ({"Principal": {"AWS": "arn:aws:s3:::other"}}, "Invalid principal in policy"),
        ({"Action": None}, "Missing required field Action"),
        ({"Action": "s3:NoSuchThing"}, "Policy has invalid action"),
        ({"Action": "sqs:SendMessage"}, "Policy has invalid action"),
        ({"Action": "s3:Frob*"}, "Policy has invalid action"),
        ({"Resource": None}, "Missing required field Resource"),
        ({"Resource": "*"}, "Policy has invalid resource"),
        ({"Resource": "arn:aws:s3:::some-other-bucket/*"}, "Policy has invalid resource"),
        ({"Resource": "arn:aws:sqs:us-east-1:123456789012:q"}, "Policy has invalid resource"),
        ({"Action": "s3:ListBucket"}, "Action does not apply to any resource(s) in statement"),
        (
            {"Action": ["s3:GetObject", "s3:ListBucket"]},
            "Action does not apply to any resource(s) in statement",
        ),
        ({"Action": "s3:ListAllMyBuckets"}, "Action does not apply to any resource(s) in statement"),
        ({"Extra": 1}, "Unknown field Extra"),
        (
            {"Condition": {"StringEqualsish": {"aws:SourceVpc": "vpc-1"}}},
            "Invalid Condition type : StringEqualsish",
        ),
    ],
)
def test_malformed_statements(s3: Any, bucket: str, overrides: dict[str, Any], message: str) -> None:
    document = statement(bucket, **{key: value for key, value in overrides.items() if value is not None})
    for key, value in overrides.items():
        if value is None:
            document.pop(key)
    assert malformed(s3, bucket, policy_text(document)) == message


@pytest.mark.parametrize(
    "overrides",
    [
        {"Action": "s3:*", "Resource": "arn:aws:s3:::{b}"},
        {"Action": "s3:Get*", "Resource": "arn:aws:s3:::{b}"},
        {"Action": "*", "Resource": ["arn:aws:s3:::{b}", "arn:aws:s3:::{b}/*"]},
        {"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::{b}", "arn:aws:s3:::{b}/*"]},
        {"Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{b}*"},
        {"NotAction": "s3:DeleteObject", "Effect": "Deny", "Principal": "*"},
        {"Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:user/alice"]}},
        {"Principal": {"Service": "cloudfront.amazonaws.com"}},
        {"Principal": {"CanonicalUser": "a" * 64}},
        {"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT_ROOT}},
        {"Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}},
    ],
)
def test_valid_statements_accepted(s3: Any, bucket: str, overrides: dict[str, Any]) -> None:
    fixed = json.loads(json.dumps(overrides).replace("{b}", bucket))
    document = statement(bucket, **fixed)
    if "NotPrincipal" in fixed:
        document.pop("Principal")
    if "NotAction" in fixed:
        document.pop("Action")
    text = policy_text(document)
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text


def test_policy_too_large(s3: Any, bucket: str) -> None:
    statements = [statement(bucket, Sid=f"S{index}") for index in range(200)]
    text = policy_text(*statements)
    assert len(text) > 20 * 1024
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert error_of(excinfo) == ("PolicyTooLarge", 400)
    fits = policy_text(*statements[:50])
    s3.put_bucket_policy(Bucket=bucket, Policy=fits)


def test_no_such_bucket(s3: Any) -> None:
    for call in (
        lambda: s3.put_bucket_policy(Bucket="h8-no-such-bucket", Policy="{}"),
        lambda: s3.get_bucket_policy(Bucket="h8-no-such-bucket"),
        lambda: s3.get_bucket_policy_status(Bucket="h8-no-such-bucket"),
        lambda: s3.delete_bucket_policy(Bucket="h8-no-such-bucket"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("NoSuchBucket", 404)


def test_single_statement_object_and_legacy_version(s3: Any, bucket: str) -> None:
    text = json.dumps({"Version": "2008-10-17", "Statement": statement(bucket)})
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}


def test_invalid_policy_keeps_previous(s3: Any, bucket: str) -> None:
    text = policy_text(statement(bucket))
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    malformed(s3, bucket, policy_text(statement(bucket, Resource="arn:aws:s3:::elsewhere")))
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
