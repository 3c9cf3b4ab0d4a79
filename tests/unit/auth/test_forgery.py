"""Forged, stale and malformed requests: each is refused with the documented error."""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from kumoi.auth import errors as e
from kumoi.auth.credentials import Credential, StaticCredentials
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.clock import Clock
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from tests.unit.auth.auth_testkit import (
    ACCESS_KEY,
    ACCOUNT,
    SECRET,
    FixedClock,
    drain,
    from_botocore,
    run,
    signed,
    to_http,
    verifier,
)

URL = "http://localhost:4566/"
BODY = b"Action=ListQueues&QueueNamePrefix=abc"


def _query_request(**kwargs: object) -> HttpRequest:
    return signed(
        "POST",
        URL + "?extra=1",
        service="sqs",
        body=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Custom": "v1"},
        **kwargs,  # type: ignore[arg-type]
    )


def _failure(
    request: HttpRequest, *, s3: bool = False, clock: Clock | None = None, **kw: object
) -> e.SigV4Failure:
    with pytest.raises(e.SigV4Failure) as caught:
        run(verifier(clock, **kw).authenticate(request, s3=s3))
    return caught.value


def _replace_header(request: HttpRequest, name: str, value: str | None) -> None:
    items = [(k, v) for k, v in request.headers.items() if k != name]
    if value is not None:
        items.append((name, value))
    request.headers = Headers(items)


def test_wrong_secret() -> None:
    failure = _failure(_query_request(secret="not-the-secret"))
    assert failure.kind == e.SIGNATURE_MISMATCH
    s3 = e.error_for(failure, "s3")
    assert (s3.code, s3.status) == ("SignatureDoesNotMatch", 403)
    assert {"AWSAccessKeyId", "StringToSign", "SignatureProvided", "CanonicalRequest"} <= set(s3.fields)
    query = e.error_for(failure, "query")
    assert query.code == "SignatureDoesNotMatch" and not query.fields


MUTATIONS: dict[str, Callable[[HttpRequest], None]] = {
    "header value": lambda r: _replace_header(r, "x-custom", "v2"),
    "missing signed header": lambda r: _replace_header(r, "x-custom", None),
    "host": lambda r: _replace_header(r, "host", "localhost:4567"),
    "query": lambda r: setattr(r, "query_string", "extra=2"),
    "added query": lambda r: setattr(r, "query_string", "extra=1&more=1"),
    "path": lambda r: setattr(r, "path", "/x"),
    "method": lambda r: setattr(r, "method", "PUT"),
    "body": lambda r: setattr(r, "body", BytesBody(BODY + b"&x=1")),
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=str)
def test_altered_request_is_rejected(mutation: str) -> None:
    request = _query_request()
    MUTATIONS[mutation](request)
    assert _failure(request).kind == e.SIGNATURE_MISMATCH


def test_host_must_be_signed() -> None:
    class NoHost(SigV4Auth):
        def headers_to_sign(self, request: AWSRequest) -> object:
            headers = super().headers_to_sign(request)
            del headers["host"]
            return headers

    request = AWSRequest(method="GET", url=URL, headers={})
    NoHost(Credentials(ACCESS_KEY, SECRET), "sqs", "us-east-1").add_auth(request)
    failure = _failure(from_botocore(request))
    assert failure.kind == e.MALFORMED_AUTH
    assert e.error_for(failure, "query").code == "IncompleteSignature"


def test_unsigned_amz_header_on_s3() -> None:
    request = signed("GET", URL + "bucket/key", service="s3", s3=True)
    request.headers.add("x-amz-meta-smuggled", "1")
    failure = _failure(request, s3=True)
    assert failure.kind == e.HEADERS_NOT_SIGNED
    assert e.error_for(failure, "s3").fields == {"HeadersNotSigned": "x-amz-meta-smuggled"}


@pytest.mark.parametrize("shift", [-16 * 60, 16 * 60])
def test_skewed_clock(shift: int) -> None:
    request = _query_request()
    failure = _failure(request, clock=FixedClock(time.time() + shift))
    assert failure.kind == e.CLOCK_SKEW
    s3 = e.error_for(failure, "s3")
    assert (s3.code, s3.status) == ("RequestTimeTooSkewed", 403)
    assert s3.fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert {"RequestTime", "ServerTime"} <= set(s3.fields)
    query = e.error_for(failure, "query")
    assert query.code == "SignatureDoesNotMatch"
    assert query.message.startswith("Signature expired:" if shift > 0 else "Signature not yet current:")


def test_skew_within_15_minutes_is_fine() -> None:
    request = _query_request()
    run(verifier(FixedClock(time.time() + 14 * 60)).authenticate(request, s3=False))


def _presigned(expires: int = 60, **params: str) -> str:
    client = boto3.client(
        "s3",
        endpoint_url="http://localhost:4566",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4"),
    )
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k", **params}, ExpiresIn=expires
    )
    return url


def test_expired_presign() -> None:
    url = _presigned(expires=10)
    run(verifier(FixedClock(time.time() + 9)).authenticate(to_http("GET", url, []), s3=True))
    failure = _failure(to_http("GET", url, []), s3=True, clock=FixedClock(time.time() + 12))
    assert failure.kind == e.PRESIGN_EXPIRED
    s3 = e.error_for(failure, "s3")
    assert (s3.code, s3.message, s3.status) == ("AccessDenied", "Request has expired", 403)
    assert s3.fields["X-Amz-Expires"] == "10"


def test_presign_tampered() -> None:
    url = _presigned()
    assert _failure(to_http("GET", url.replace("/b/k", "/b/j"), []), s3=True).kind == e.SIGNATURE_MISMATCH
    assert _failure(to_http("GET", url + "&versionId=1", []), s3=True).kind == e.SIGNATURE_MISMATCH
    forged = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    assert _failure(to_http("GET", forged, []), s3=True).kind == e.SIGNATURE_MISMATCH


@pytest.mark.parametrize(
    ("edit", "kind"),
    [
        (lambda u: u.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"), e.MALFORMED_QUERY_AUTH),
        (lambda u: u.replace("X-Amz-Expires=60", "X-Amz-Expires=-1"), e.MALFORMED_QUERY_AUTH),
        (
            lambda u: u.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
            e.MALFORMED_QUERY_AUTH,
        ),
        (lambda u: u.replace("X-Amz-SignedHeaders=host&", ""), e.MALFORMED_QUERY_AUTH),
        (lambda u: u.replace("aws4_request", "aws5_request"), e.MALFORMED_QUERY_AUTH),
    ],
)
def test_malformed_presign(edit: Callable[[str], str], kind: str) -> None:
    failure = _failure(to_http("GET", edit(_presigned()), []), s3=True)
    assert failure.kind == kind
    assert e.error_for(failure, "s3").code == "AuthorizationQueryParametersError"


def test_presign_and_header_together() -> None:
    request = to_http("GET", _presigned(), [("authorization", "AWS4-HMAC-SHA256 Credential=x")])
    failure = _failure(request, s3=True)
    assert e.error_for(failure, "s3").code == "InvalidArgument"


def test_unknown_key_mentions_accept_any_key() -> None:
    failure = _failure(_query_request(access_key="AKIDUNKNOWN"))
    s3 = e.error_for(failure, "s3")
    assert (s3.code, s3.status) == ("InvalidAccessKeyId", 403)
    assert "--accept-any-key" in s3.message and "KUMOI_ACCEPT_ANY_KEY=1" in s3.message
    query = e.error_for(failure, "query")
    assert query.code == "InvalidClientTokenId"
    assert query.message.startswith("The security token included in the request is invalid.")
    json = e.error_for(failure, "json")
    assert json.headers["x-amzn-query-error"] == "InvalidClientTokenId;Sender"


def test_accept_any_key() -> None:
    result = run(
        verifier(accept_any_key=True).authenticate(_query_request(access_key="123456789012"), s3=False)
    )
    assert result.caller.account_id == "123456789012"
    assert result.caller.arn == "arn:aws:iam::123456789012:root"
    result = run(
        verifier(accept_any_key=True, default_account="999988887777").authenticate(
            _query_request(access_key="anything", secret="whatever"), s3=False
        )
    )
    assert result.caller.account_id == "999988887777"
    known_but_wrong = _query_request(secret="wrong")
    assert _failure(known_but_wrong, accept_any_key=True).kind == e.SIGNATURE_MISMATCH


def test_accept_any_key_still_checks_payload_hash() -> None:
    request = signed("PUT", URL + "b/k", service="s3", s3=True, body=b"abc", access_key="nobody")
    request.body = BytesBody(b"abd")
    run(verifier(accept_any_key=True).authenticate(request, s3=True))
    with pytest.raises(Exception) as caught:
        run(drain(request.body))
    assert getattr(caught.value, "code", None) == "XAmzContentSHA256Mismatch"


def test_anonymous() -> None:
    request = to_http("GET", URL + "bucket/key", [])
    result = run(verifier().authenticate(request, s3=True))
    assert (result.method, result.caller.account_id, result.caller.arn) == ("anonymous", "", "anonymous")
    failure = _failure(to_http("POST", URL, [], BODY))
    assert failure.kind == e.MISSING_AUTH
    assert e.error_for(failure, "query").code == "MissingAuthenticationToken"
    assert e.error_for(failure, "json").code == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101/us-east-1/sqs/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/2020/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101/us-east-1/sqs, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 garbage",
    ],
)
def test_malformed_authorization(authorization: str) -> None:
    request = to_http("GET", URL, [("authorization", authorization), ("x-amz-date", "20200101T000000Z")])
    failure = _failure(request)
    assert failure.kind == e.MALFORMED_AUTH
    assert e.error_for(failure, "s3").code == "AuthorizationHeaderMalformed"
    assert e.error_for(failure, "query").code == "IncompleteSignature"
    assert e.error_for(failure, "json").code == "IncompleteSignatureException"


def test_scope_date_must_match_request_date() -> None:
    request = _query_request()
    _replace_header(request, "x-amz-date", "20200101T000000Z")
    assert _failure(request).kind == e.MALFORMED_AUTH


def test_unsupported_algorithms() -> None:
    sigv2_on_sqs = to_http("GET", URL, [("authorization", "AWS AKID:c2lnbmF0dXJl"), ("date", "x")])
    failure = _failure(sigv2_on_sqs)
    assert failure.kind == e.UNSUPPORTED_AUTH
    assert e.error_for(failure, "query").code == "IncompleteSignature"
    sigv4a = to_http("GET", URL + "b/k", [("authorization", "AWS4-ECDSA-P256-SHA256 Credential=x")])
    assert e.error_for(_failure(sigv4a, s3=True), "s3").code == "InvalidRequest"


def test_missing_date() -> None:
    request = _query_request()
    _replace_header(request, "x-amz-date", None)
    failure = _failure(request)
    assert failure.kind == e.MISSING_DATE


def test_session_tokens() -> None:
    now = time.time()
    temporary = Credential(
        "ASIAKUMOI",
        "tmp-secret",
        ACCOUNT,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        "AROA:s",
        session_token="the-token",
        expires_at=now + 100,
        is_root=False,
    )
    verifier_ = SigV4Verifier(StaticCredentials([temporary]), FixedClock(now))
    good = _query_request(access_key="ASIAKUMOI", secret="tmp-secret", token="the-token")
    assert run(verifier_.authenticate(good, s3=False)).caller.session_token == "the-token"
    wrong = _query_request(access_key="ASIAKUMOI", secret="tmp-secret", token="other")
    with pytest.raises(e.SigV4Failure) as caught:
        run(verifier_.authenticate(wrong, s3=False))
    assert e.error_for(caught.value, "query").code == "InvalidClientTokenId"
    later = SigV4Verifier(StaticCredentials([temporary]), FixedClock(now + 101))
    expired = _query_request(access_key="ASIAKUMOI", secret="tmp-secret", token="the-token")
    with pytest.raises(e.SigV4Failure) as caught:
        run(later.authenticate(expired, s3=False))
    assert e.error_for(caught.value, "query").code == "ExpiredToken"
    assert e.error_for(caught.value, "s3").code == "ExpiredToken"
    stray = _query_request(token="stray")
    assert _failure(stray).kind == e.INVALID_TOKEN


def test_document_body_limit() -> None:
    request = signed("POST", URL, service="sqs", body=b"x" * 2000)
    failure = _failure(request, max_body=1000)
    assert failure.kind == e.BODY_TOO_LARGE
    assert e.error_for(failure, "query").status == 413


@pytest.mark.parametrize(
    ("value", "kind"), [(None, e.MISSING_CONTENT_SHA256), ("nonsense", e.INVALID_CONTENT_SHA256)]
)
def test_s3_content_sha256_header(value: str | None, kind: str) -> None:
    request = signed("GET", URL + "b/k", service="s3", s3=True)
    _replace_header(request, "x-amz-content-sha256", value)
    failure = _failure(request, s3=True)
    assert failure.kind == kind
    assert e.error_for(failure, "s3").status == 400
