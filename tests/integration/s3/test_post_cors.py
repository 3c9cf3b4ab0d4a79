"""Browser POST uploads (a real multipart/form-data post) and CORS (preflight and actual responses)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of
from tests.support.server import ServerProcess

ORIGIN = "https://app.example.com"


def _post(url: str, fields: dict[str, str], data: bytes, filename: str = "photo.jpg") -> requests.Response:
    files = {"file": (filename, data, "image/jpeg")}
    return requests.post(url, data=fields, files=files, timeout=10)


@pytest.mark.parametrize(("size", "signature"), [(10, "s3"), (200 * 1024, "s3v4"), (10, "s3v4")])
def test_post_upload_with_policy(client_factory: Any, bucket: str, size: int, signature: str) -> None:
    s3 = client_factory("s3", config=Config(signature_version=signature))
    presigned = s3.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"success_action_status": "201", "x-amz-meta-owner": "alice"},
        Conditions=[
            ["starts-with", "$key", "uploads/"],
            {"success_action_status": "201"},
            {"x-amz-meta-owner": "alice"},
            ["content-length-range", 1, 1024 * 1024],
        ],
        ExpiresIn=300,
    )
    data = os.urandom(size)
    response = _post(presigned["url"], presigned["fields"], data)
    assert response.status_code == 201, response.text
    assert "<Key>uploads/photo.jpg</Key>" in response.text
    got = s3.get_object(Bucket=bucket, Key="uploads/photo.jpg")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"owner": "alice"}
    assert got["ContentType"] == "image/jpeg"


def test_post_v4_forged_signature(client_factory: Any, bucket: str) -> None:
    s3 = client_factory("s3", config=Config(signature_version="s3v4"))
    presigned = s3.generate_presigned_post(bucket, "k")
    fields = {**presigned["fields"], "x-amz-signature": "0" * 64}
    forged = _post(presigned["url"], fields, b"x")
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    del fields["x-amz-date"]
    incomplete = _post(presigned["url"], fields, b"x")
    assert incomplete.status_code == 400 and "<Code>InvalidArgument</Code>" in incomplete.text


def test_post_policy_violations(s3: Any, bucket: str) -> None:
    presigned = s3.generate_presigned_post(
        bucket, "fixed-key", Conditions=[["content-length-range", 5, 10]], ExpiresIn=300
    )
    url, fields = presigned["url"], presigned["fields"]
    assert _post(url, fields, b"123456").status_code == 204
    too_big = _post(url, fields, b"x" * 11)
    assert too_big.status_code == 400 and "<Code>EntityTooLarge</Code>" in too_big.text
    too_small = _post(url, fields, b"x")
    assert too_small.status_code == 400 and "<Code>EntityTooSmall</Code>" in too_small.text
    wrong_key = _post(url, {**fields, "key": "other-key"}, b"123456")
    assert wrong_key.status_code == 403 and "Policy Condition failed" in wrong_key.text
    extra = _post(url, {**fields, "x-amz-meta-sneaky": "1"}, b"123456")
    assert extra.status_code == 403 and "Extra input fields" in extra.text
    forged = _post(url, {**fields, "signature": "AAAA" + fields["signature"][4:]}, b"123456")
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    no_policy = _post(url, {"key": "k"}, b"123456")
    assert no_policy.status_code == 403 and "<Code>AccessDenied</Code>" in no_policy.text
    not_a_form = requests.post(
        url, data=b"plain", headers={"Content-Type": "multipart/form-data"}, timeout=10
    )
    assert not_a_form.status_code == 400 and "MalformedPOSTRequest" in not_a_form.text
    assert s3.get_object(Bucket=bucket, Key="fixed-key")["Body"].read() == b"123456"


def test_post_redirect_and_expiry(s3: Any, bucket: str) -> None:
    presigned = s3.generate_presigned_post(
        bucket,
        "k",
        Fields={"success_action_redirect": "https://app.example.com/done"},
        Conditions=[{"success_action_redirect": "https://app.example.com/done"}],
    )
    response = requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={"file": ("a", b"abc")},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://app.example.com/done?bucket=")
    expired = s3.generate_presigned_post(bucket, "k", ExpiresIn=-10)
    response = _post(expired["url"], expired["fields"], b"x")
    assert response.status_code == 403 and "Policy expired" in response.text


def test_cors_configuration_api(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchCORSConfiguration", 404)
    rules = [
        {
            "AllowedOrigins": [ORIGIN],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["content-type", "x-amz-*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]},
        )
    assert error_of(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*.*"], "AllowedMethods": ["GET"]}]},
        )
    assert error_of(excinfo) == ("InvalidRequest", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(excinfo) == ("NoSuchCORSConfiguration", 404)


def test_preflight_and_actual_responses(server: ServerProcess, s3: Any, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/photo.jpg"
    asking = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
    not_enabled = requests.options(url, headers=asking, timeout=10)
    assert not_enabled.status_code == 403 and "AccessForbidden" in not_enabled.text
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["https://*.example.com"],
                    "AllowedMethods": ["GET", "PUT"],
                    "AllowedHeaders": ["content-type"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                },
                {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
            ]
        },
    )
    preflight = requests.options(
        url, headers={**asking, "Access-Control-Request-Headers": "Content-Type"}, timeout=10
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    assert preflight.headers["Access-Control-Expose-Headers"] == "ETag"
    refused = requests.options(
        url, headers={**asking, "Access-Control-Request-Headers": "x-other"}, timeout=10
    )
    assert refused.status_code == 403
    anyone = requests.options(
        url, headers={"Origin": "https://elsewhere.org", "Access-Control-Request-Method": "GET"}, timeout=10
    )
    assert anyone.status_code == 200 and anyone.headers["Access-Control-Allow-Origin"] == "*"
    no_origin = requests.options(url, headers={"Access-Control-Request-Method": "GET"}, timeout=10)
    assert no_origin.status_code == 400
    # An actual request with Origin gets the matching rule's headers.
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "photo.jpg"})
    actual = requests.get(presigned, headers={"Origin": ORIGIN}, timeout=10)
    assert actual.status_code == 200 and actual.content == b"jpeg"
    assert actual.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert actual.headers["Access-Control-Expose-Headers"] == "ETag"
    plain = requests.get(presigned, timeout=10)
    assert "Access-Control-Allow-Origin" not in plain.headers
