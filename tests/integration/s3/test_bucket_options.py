"""Transfer Acceleration, Requester Pays, website and access-logging settings through boto3 and the
aws CLI: kept and answered as S3 answers them, with S3's errors for what it refuses."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique
from tests.support.raw import signed_send
from tests.support.server import ServerProcess


def refused(call: Any, **kwargs: Any) -> tuple[str, int, dict[str, Any]]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return (*error_of(excinfo), excinfo.value.response["Error"])


# ---------------------------------------------------------------------------- accelerate


def test_accelerate_has_no_status_until_set(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    for status in ("Enabled", "Suspended"):
        s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": status})
        assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == status


def test_accelerate_refuses_unknown_states_and_dotted_names(s3: Any, bucket: str) -> None:
    code, status, _ = refused(
        s3.put_bucket_accelerate_configuration, Bucket=bucket, AccelerateConfiguration={"Status": "On"}
    )
    assert (code, status) == ("MalformedXML", 400)
    dotted = unique("dot") + ".example"
    s3.create_bucket(Bucket=dotted)
    code, status, error = refused(
        s3.put_bucket_accelerate_configuration, Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"}
    )
    assert (code, status) == ("InvalidRequest", 400)
    assert "periods" in error["Message"]


# ---------------------------------------------------------------------------- request payment


def test_request_payment_defaults_to_the_owner(s3: Any, bucket: str) -> None:
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    s3.put_object(Bucket=bucket, Key="k", Body=b"owner needs no header")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"owner needs no header"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


def test_request_payment_refuses_unknown_payers(s3: Any, bucket: str) -> None:
    code, status, _ = refused(
        s3.put_bucket_request_payment, Bucket=bucket, RequestPaymentConfiguration={"Payer": "Nobody"}
    )
    assert (code, status) == ("MalformedXML", 400)


# ---------------------------------------------------------------------------- website

INDEX_SITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {
            "Condition": {"KeyPrefixEquals": "docs/"},
            "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"},
        },
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"}, "Redirect": {"HostName": "example.com"}},
    ],
}


def test_website_round_trip(s3: Any, bucket: str) -> None:
    code, status, error = refused(s3.get_bucket_website, Bucket=bucket)
    assert (code, status) == ("NoSuchWebsiteConfiguration", 404)
    assert error["BucketName"] == bucket
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=INDEX_SITE)
    got = s3.get_bucket_website(Bucket=bucket)
    assert {member: got[member] for member in INDEX_SITE} == INDEX_SITE
    redirect = {"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=redirect)
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["RedirectAllRequestsTo"] == redirect["RedirectAllRequestsTo"]
    assert "IndexDocument" not in got
    s3.delete_bucket_website(Bucket=bucket)
    assert refused(s3.get_bucket_website, Bucket=bucket)[:2] == ("NoSuchWebsiteConfiguration", 404)
    s3.delete_bucket_website(Bucket=bucket)  # deleting nothing is fine


@pytest.mark.parametrize(
    ("config", "code", "argument"),
    [
        ({"ErrorDocument": {"Key": "e.html"}}, "InvalidArgument", ("IndexDocument", "null")),
        ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument", ("IndexDocument", "a/index.html")),
        (
            {"IndexDocument": {"Suffix": ""}},
            "InvalidArgument",
            ("IndexDocument", None),
        ),  # empty: None in botocore
        (
            {"RedirectAllRequestsTo": {"HostName": "example.com"}, "IndexDocument": {"Suffix": "i.html"}},
            "InvalidArgument",
            ("RedirectAllRequestsTo", "not null"),
        ),
        (
            {
                "IndexDocument": {"Suffix": "i.html"},
                "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}],
            },
            "InvalidRequest",
            None,
        ),
        (
            {
                "IndexDocument": {"Suffix": "i.html"},
                "RoutingRules": [{"Condition": {}, "Redirect": {"HostName": "h"}}],
            },
            "InvalidRequest",
            None,
        ),
        (
            {
                "IndexDocument": {"Suffix": "i.html"},
                "RoutingRules": [{"Redirect": {"HttpRedirectCode": "200"}}],
            },
            "InvalidRequest",
            None,
        ),
        (
            {
                "IndexDocument": {"Suffix": "i.html"},
                "RoutingRules": [{"Redirect": {"HttpRedirectCode": "300"}}],
            },
            "InvalidRequest",
            None,
        ),
    ],
    ids=[
        "no-index",
        "slash-in-suffix",
        "empty-suffix",
        "redirect-all-and-index",
        "both-replacements",
        "empty-condition",
        "redirect-code-200",
        "redirect-code-300",
    ],
)
def test_website_refusals(
    s3: Any, bucket: str, config: dict[str, Any], code: str, argument: tuple[str, str | None] | None
) -> None:
    got_code, status, error = refused(s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration=config)
    assert (got_code, status) == (code, 400)
    if argument is not None:
        assert (error["ArgumentName"], error["ArgumentValue"]) == argument
    assert refused(s3.get_bucket_website, Bucket=bucket)[0] == "NoSuchWebsiteConfiguration"


def test_website_through_the_cli(cli_env: dict[str, str], s3: Any, bucket: str) -> None:
    subprocess.run(
        [
            "aws",
            "s3",
            "website",
            f"s3://{bucket}/",
            "--index-document",
            "index.html",
            "--error-document",
            "404.html",
        ],
        env=cli_env,
        check=True,
        capture_output=True,
    )
    shown = subprocess.run(
        ["aws", "s3api", "get-bucket-website", "--bucket", bucket],
        env=cli_env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(shown.stdout) == {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "404.html"},
    }


# ---------------------------------------------------------------------------- logging


def test_logging_round_trip(s3: Any, bucket: str) -> None:
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    target = unique("logs")
    s3.create_bucket(Bucket=target)
    enabled = {"TargetBucket": target, "TargetPrefix": "access/"}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == enabled
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)


def test_logging_target_must_exist(s3: Any, bucket: str) -> None:
    missing = unique("nologs")
    code, status, error = refused(
        s3.put_bucket_logging,
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": missing, "TargetPrefix": ""}},
    )
    assert (code, status) == ("InvalidTargetBucketForLogging", 400)
    assert error["TargetBucket"] == missing
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)


def test_logging_target_must_be_in_the_same_region(s3: Any, bucket: str) -> None:
    target = unique("farlogs")
    s3.create_bucket(Bucket=target, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code, status, error = refused(
        s3.put_bucket_logging,
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": ""}},
    )
    assert (code, status) == ("CrossLocationLoggingProhibitted", 403)
    assert error["TargetBucketLocation"] == "eu-west-1"


# ---------------------------------------------------------------------------- bodies missing members


@pytest.mark.parametrize(
    ("subresource", "document"),
    [
        (
            "logging",
            "<BucketLoggingStatus><LoggingEnabled><TargetPrefix>x</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
        ),
        (
            "logging",
            "<BucketLoggingStatus><LoggingEnabled><TargetBucket>b</TargetBucket></LoggingEnabled></BucketLoggingStatus>",
        ),
        (
            "website",
            "<WebsiteConfiguration><RedirectAllRequestsTo></RedirectAllRequestsTo></WebsiteConfiguration>",
        ),
        (
            "website",
            "<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix></IndexDocument><RoutingRules><RoutingRule></RoutingRule></RoutingRules></WebsiteConfiguration>",
        ),
        ("metrics&id=a", "<MetricsConfiguration></MetricsConfiguration>"),
        (
            "intelligent-tiering&id=a",
            "<IntelligentTieringConfiguration><Id>a</Id><Status>Enabled</Status><Tiering><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering></IntelligentTieringConfiguration>",
        ),
        ("inventory&id=a", "<InventoryConfiguration><Id>a</Id></InventoryConfiguration>"),
        (
            "analytics&id=a",
            "<AnalyticsConfiguration><Id>a</Id><StorageClassAnalysis><DataExport><Destination></Destination></DataExport></StorageClassAnalysis></AnalyticsConfiguration>",
        ),
        ("accelerate", "<AccelerateConfiguration/>"),
        ("requestPayment", "<RequestPaymentConfiguration/>"),
    ],
)
def test_bodies_missing_required_members_are_refused(
    server: ServerProcess, bucket: str, subresource: str, document: str
) -> None:
    body = document.encode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    response = signed_send(
        server.endpoint, "PUT", f"/{bucket}?{subresource}", body, service="s3", headers={"Content-MD5": md5}
    )
    assert response.status == 400
    assert b"<Code>InternalError</Code>" not in response.body
