"""The services' authorization maps: which action, resource and keys each operation needs."""

from __future__ import annotations

from typing import Any

import pytest

from kumoi.core.context import Caller, RequestContext
from kumoi.services.s3.acl_access import CANONICAL_KEY
from kumoi.services.s3.authz import targets as s3_targets
from kumoi.services.s3.owner import canonical_id
from kumoi.services.sqs.authz import targets as sqs_targets
from kumoi.services.sts.authz import targets as sts_targets

ACCOUNT = "111111111111"


def ctx(service: str, operation: str) -> RequestContext:
    caller = Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDA", "AKIA", None, False)
    return RequestContext("r", service, operation, "us-east-1", caller, "http://localhost:4566", "localhost")


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetObject", {"Bucket": "b", "Key": "k/x"}, [("s3:GetObject", "arn:aws:s3:::b/k/x")]),
        ("HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        (
            "GetObject",
            {"Bucket": "b", "Key": "k", "VersionId": "v1"},
            [("s3:GetObjectVersion", "arn:aws:s3:::b/k")],
        ),
        ("ListObjectsV2", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("ListBuckets", {}, [("s3:ListAllMyBuckets", "*")]),
        ("DeleteBucketCors", {"Bucket": "b"}, [("s3:PutBucketCORS", "arn:aws:s3:::b")]),
        ("UploadPart", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
        (
            "CopyObject",
            {"Bucket": "b", "Key": "k", "CopySource": "/src/a%20b?versionId=3"},
            [("s3:PutObject", "arn:aws:s3:::b/k"), ("s3:GetObjectVersion", "arn:aws:s3:::src/a b")],
        ),
        (
            "DeleteObjects",
            {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "2"}]}},
            [("s3:DeleteObject", "arn:aws:s3:::b/x"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/y")],
        ),
        ("GetBucketPolicy", {"Bucket": "b"}, [("s3:GetBucketPolicy", "arn:aws:s3:::b")]),
    ],
)
def test_s3_targets(operation: str, params: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(t.action, t.resource) for t in s3_targets(ctx("s3", operation), params)] == expected


def test_s3_condition_keys() -> None:
    listing = s3_targets(
        ctx("s3", "ListObjects"), {"Bucket": "b", "Prefix": "home/", "Delimiter": "/", "MaxKeys": 10}
    )
    # Every target also carries the caller's canonical user id, for ACL grants.
    caller = {CANONICAL_KEY: [canonical_id(ACCOUNT)]}
    assert listing[0].context == {
        "s3:prefix": ["home/"],
        "s3:delimiter": ["/"],
        "s3:max-keys": ["10"],
        **caller,
    }
    put = s3_targets(ctx("s3", "PutObject"), {"Bucket": "b", "Key": "k", "ACL": "public-read"})
    assert put[0].context == {"s3:x-amz-acl": ["public-read"], **caller}
    assert put[0].locator == ("b",)
    create = s3_targets(ctx("s3", "CreateBucket"), {"Bucket": "b"})
    assert create[0].locator is None and create[0].resource_account == ACCOUNT


@pytest.mark.parametrize(
    ("operation", "params", "action", "resource"),
    [
        (
            "SendMessageBatch",
            {"QueueUrl": f"http://h/{ACCOUNT}/q"},
            "sqs:SendMessage",
            f"arn:aws:sqs:us-east-1:{ACCOUNT}:q",
        ),
        ("ListQueues", {}, "sqs:ListQueues", "*"),
        ("CreateQueue", {"QueueName": "new"}, "sqs:CreateQueue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:new"),
        (
            "GetQueueUrl",
            {"QueueName": "q", "QueueOwnerAWSAccountId": "222222222222"},
            "sqs:GetQueueUrl",
            "arn:aws:sqs:us-east-1:222222222222:q",
        ),
        ("ReceiveMessage", {"QueueUrl": "garbage"}, "sqs:ReceiveMessage", "*"),
    ],
)
def test_sqs_targets(operation: str, params: dict[str, Any], action: str, resource: str) -> None:
    [target] = sqs_targets(ctx("sqs", operation), params)
    assert (target.action, target.resource) == (action, resource)


def test_sqs_tag_keys() -> None:
    [target] = sqs_targets(ctx("sqs", "CreateQueue"), {"QueueName": "q", "tags": {"Team": "data"}})
    assert target.context == {"aws:requesttag/team": ["data"], "aws:tagkeys": ["Team"]}


def test_sts_targets() -> None:
    assert sts_targets(ctx("sts", "GetCallerIdentity"), {}) == []
    role = f"arn:aws:iam::{ACCOUNT}:role/path/ops"
    [target] = sts_targets(
        ctx("sts", "AssumeRole"), {"RoleArn": role, "RoleSessionName": "s", "ExternalId": "x"}
    )
    assert (target.action, target.resource, target.locator) == ("sts:AssumeRole", role, (ACCOUNT, "ops"))
    assert target.context["sts:externalid"] == ["x"]
