"""The bucket owner condition: a request may name the account it expects to own its bucket.

``x-amz-expected-bucket-owner`` (``ExpectedBucketOwner``) guards the bucket a request acts on,
``x-amz-source-expected-bucket-owner`` (``ExpectedSourceBucketOwner``) the source bucket of
CopyObject and UploadPartCopy. A value that is not a 12-digit account id is refused before the
bucket is looked up (400 ``InvalidBucketOwnerAWSAccountID``); a bucket owned by another account is
refused with S3's plain 403 ``AccessDenied``, whatever the caller may otherwise do with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors

TARGET = "ExpectedBucketOwner"
SOURCE = "ExpectedSourceBucketOwner"


def expected_owner(params: Mapping[str, Any], member: str) -> str | None:
    """The account ``member`` of the request names, checked to be an account id."""
    value = params.get(member)
    if value is None:
        return None
    text = str(value)
    if len(text) != 12 or not text.isascii() or not text.isdigit():
        raise ServiceError(
            "InvalidBucketOwnerAWSAccountID",
            f"The value of the expected bucket owner parameter must be an AWS Account ID... [{text}]",
        )
    return text


def check_owner(expected: str | None, owner: str) -> None:
    """Refuse a bucket that ``owner`` owns when the request expected another account."""
    if expected is not None and expected != owner:
        raise errors.access_denied()
