"""Helpers of the access-control tests: anonymous clients, the error a call is refused with, and
the public-read bucket policy they put on buckets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError


def anonymous_client(endpoint: str, service: str = "s3") -> Any:
    """A client that signs nothing: S3 (or SQS, SNS) sees an anonymous caller."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def error_of_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, int]:
    """(error code, HTTP status) of ``call(*args, **kwargs)``, which must fail."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def policy_document(*statements: dict[str, Any]) -> str:
    """An IAM, bucket or queue policy of ``statements``."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def public_read_policy(bucket: str) -> str:
    """A bucket policy that lets anyone read ``bucket``'s objects (a public one, for Block Public
    Access)."""
    return policy_document(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    )
