"""Legacy S3 SigV2: boto3's default presigned URLs (us-east-1) and the ``AWS key:sig`` header."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

from kumoi.auth import errors as e
from kumoi.auth.credentials import Credential, StaticCredentials
from kumoi.auth.sigv4 import SigV4Verifier
from tests.unit.auth.auth_testkit import ACCESS_KEY, ACCOUNT, SECRET, FixedClock, run, to_http, verifier
from tests.unit.auth.test_roundtrip import capture


def _client(**kwargs: object) -> object:
    return boto3.client(
        "s3",
        endpoint_url="http://localhost:4566",
        region_name="us-east-1",
        aws_access_key_id=kwargs.pop("key", ACCESS_KEY),
        aws_secret_access_key=kwargs.pop("secret", SECRET),
        **kwargs,
    )


def _presign(operation: str = "get_object", expires: int = 300, **params: str) -> str:
    url: str = _client().generate_presigned_url(  # type: ignore[attr-defined]
        operation, Params={"Bucket": "b", "Key": "dir/a b+c.txt", **params}, ExpiresIn=expires
    )
    assert "AWSAccessKeyId=" in url
    return url


def test_boto3_default_presign_is_sigv2_and_verifies() -> None:
    url = _presign(ResponseContentType="text/plain", VersionId="v1")
    result = run(verifier().authenticate(to_http("GET", url, []), s3=True))
    assert (result.method, result.service, result.caller.account_id) == ("presigned", "s3", ACCOUNT)


def test_sigv2_presigned_put_and_tampering() -> None:
    url = _presign("put_object")
    run(verifier().authenticate(to_http("PUT", url, [], b"data"), s3=True))
    for forged in (url.replace("/b/", "/c/"), url + "&uploads", to_http("GET", url, [])):
        request = forged if not isinstance(forged, str) else to_http("PUT", forged, [], b"data")
        with pytest.raises(e.SigV4Failure) as caught:
            run(verifier().authenticate(request, s3=True))
        assert caught.value.kind == e.SIGNATURE_MISMATCH
        assert "StringToSign" in e.error_for(caught.value, "s3").fields


def test_sigv2_presign_expired() -> None:
    url = _presign(expires=5)
    with pytest.raises(e.SigV4Failure) as caught:
        run(verifier(FixedClock(time.time() + 10)).authenticate(to_http("GET", url, []), s3=True))
    error = e.error_for(caught.value, "s3")
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_sigv2_presign_with_session_token() -> None:
    credential = Credential(
        "ASIAV2", "v2secret", ACCOUNT, "arn:aws:sts::1:assumed-role/r/s", "AROA:s", session_token="tok"
    )
    client = _client(key="ASIAV2", secret="v2secret", aws_session_token="tok")
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})  # type: ignore[attr-defined]
    verifier_ = SigV4Verifier(StaticCredentials([credential]), FixedClock(time.time()))
    assert run(verifier_.authenticate(to_http("GET", url, []), s3=True)).caller.session_token == "tok"


def test_sigv2_virtual_hosted_bucket() -> None:
    client = _client(config=Config(s3={"addressing_style": "virtual"}))
    url = client.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})  # type: ignore[attr-defined]
    request = to_http("GET", url, [])
    assert request.host.startswith("bkt.")
    run(verifier().authenticate(request, s3=True, virtual_host_bucket="bkt"))
    with pytest.raises(e.SigV4Failure):
        run(verifier().authenticate(to_http("GET", url, []), s3=True))


def test_sigv2_header_auth_from_botocore() -> None:
    request = capture("s3", lambda c: c.list_objects(Bucket="b", Prefix="x"), signature_version="s3")
    assert (request.headers.get("authorization") or "").startswith("AWS ")
    result = run(verifier().authenticate(request, s3=True))
    assert result.method == "header"
    skewed = capture("s3", lambda c: c.list_objects(Bucket="b", Prefix="x"), signature_version="s3")
    with pytest.raises(e.SigV4Failure) as caught:
        run(verifier(FixedClock(time.time() + 3600)).authenticate(skewed, s3=True))
    assert e.error_for(caught.value, "s3").code == "RequestTimeTooSkewed"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_object(Bucket="b", Key="dir//x!y'z(1)*~ü.txt", VersionId="3", Range="bytes=0-1"),
        lambda c: c.put_object(Bucket="b", Key="k", Body=b"x", ContentType="text/x", Metadata={"a": "b c"}),
        lambda c: c.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "k"}]}),
        lambda c: c.list_buckets(),
        lambda c: c.create_multipart_upload(Bucket="b", Key="k"),
    ],
)
def test_sigv2_header_auth_operations(call: object) -> None:
    request = capture("s3", call, signature_version="s3")  # type: ignore[arg-type]
    assert run(verifier().authenticate(request, s3=True)).method == "header"


def test_sigv2_on_other_services_is_unsupported() -> None:
    request = to_http("GET", "http://localhost:4566/?AWSAccessKeyId=a&Signature=b&Expires=1", [])
    with pytest.raises(e.SigV4Failure) as caught:
        run(verifier().authenticate(request, s3=False))
    assert caught.value.kind == e.UNSUPPORTED_AUTH
