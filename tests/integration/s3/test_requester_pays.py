"""Requester Pays between accounts: another account that a bucket policy lets in must accept the
charge (``x-amz-request-payer: requester``), anonymous callers are refused, the owner needs
nothing; the bucket owner condition holds for every caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.iam.conftest import Account, unique
from tests.integration.s3.account_fixtures import owner, server, visitor
from tests.support.access import anonymous_client, error_of_call, policy_document, public_read_policy
from tests.support.server import ServerProcess

__all__ = ["owner", "server", "visitor"]


def requester_pays_bucket(owner: Account, policy: Callable[[str], str]) -> str:
    """A bucket of ``owner`` holding ``data.csv``, with the bucket policy ``policy(name)``, whose
    requesters pay."""
    s3 = owner.root("s3")
    bucket = unique("payer")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\n")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket))
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    return bucket


def readable_by(reader: Account) -> Callable[[str], str]:
    def policy(bucket: str) -> str:
        return policy_document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{reader.id}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        )

    return policy


def test_another_account_must_accept_the_charge(owner: Account, visitor: Account) -> None:
    bucket = requester_pays_bucket(owner, readable_by(visitor))
    s3: Any = visitor.root("s3")
    assert error_of_call(s3.get_object, Bucket=bucket, Key="data.csv") == ("AccessDenied", 403)
    assert error_of_call(s3.list_objects_v2, Bucket=bucket) == ("AccessDenied", 403)
    body = s3.get_object(Bucket=bucket, Key="data.csv", RequestPayer="requester")["Body"].read()
    assert body == b"a,b\n"
    listed = s3.list_objects_v2(Bucket=bucket, RequestPayer="requester")
    assert [item["Key"] for item in listed["Contents"]] == ["data.csv"]
    # The owner reads without the header; once the owner pays again, so does the visitor.
    mine = owner.root("s3")
    assert mine.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"a,b\n"
    mine.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"a,b\n"


def test_anonymous_callers_are_refused(server: ServerProcess, owner: Account) -> None:
    bucket = requester_pays_bucket(owner, public_read_policy)
    anonymous = anonymous_client(server.endpoint)
    refused = error_of_call(anonymous.get_object, Bucket=bucket, Key="data.csv", RequestPayer="requester")
    assert refused == ("AccessDenied", 403)
    owner.root("s3").put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"}
    )
    assert anonymous.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"a,b\n"


def test_the_owner_condition_holds_for_a_visitor(owner: Account, visitor: Account) -> None:
    bucket = requester_pays_bucket(owner, readable_by(visitor))
    s3 = visitor.root("s3")
    wrong = error_of_call(
        s3.get_object, Bucket=bucket, Key="data.csv", RequestPayer="requester", ExpectedBucketOwner=visitor.id
    )
    assert wrong == ("AccessDenied", 403)
    body = s3.get_object(
        Bucket=bucket, Key="data.csv", RequestPayer="requester", ExpectedBucketOwner=owner.id
    )
    assert body["Body"].read() == b"a,b\n"
