"""The verifier parses each Authorization header's claim once and signs with prepared keys: the
answers (claims, errors, signatures) are those of parsing every header whole."""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.auth.canonical import KeySigner, derive_signing_key, sign
from kumoi.auth.errors import SIGNATURE_MISMATCH, SigV4Failure
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from tests.unit.auth.auth_testkit import ACCESS_KEY, run, signed, verifier

SETTINGS = settings(max_examples=300, deadline=None)
DATE = "20250102T030405Z"
PREFIX = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250102/us-east-1/sqs/aws4_request, "

#: Pieces of Authorization headers, good and broken.
PIECES = st.sampled_from(
    [
        PREFIX,
        "AWS4-HMAC-SHA256 ",
        "Credential=",
        f"{ACCESS_KEY}/20250102/us-east-1/sqs/aws4_request",
        "SignedHeaders=host;x-amz-date",
        ", Signature=",
        "Signature=",
        ", ",
        ",",
        " ",
        "=",
        "abc",
        "0f",
        "20250103",
        "/",
        "aws4_request",
        "host",
        "\t",
    ]
)
HEADERS = st.lists(PIECES, min_size=1, max_size=10).map("".join)


def _request(date: str = DATE) -> HttpRequest:
    return HttpRequest("POST", "/", "", Headers([("host", "localhost"), ("x-amz-date", date)]), BytesBody())


def _outcome(call: Any) -> Any:
    try:
        return tuple(call())
    except SigV4Failure as failure:
        return (failure.kind, failure.message)


@SETTINGS
@given(HEADERS, st.sampled_from([DATE, "20250103T000000Z", "bad"]), st.text(max_size=8))
def test_claims_are_those_of_whole_headers(header: str, date: str, signature: str) -> None:
    checker = verifier()
    for authorization in (header, header + ", Signature=" + signature, header + signature):
        expected = _outcome(lambda a=authorization: checker._parse_whole_header(a, _request(date)))
        # Twice: the first parse may fill the cache, the second may answer from it.
        assert _outcome(lambda a=authorization: checker._parse_header(a, _request(date))) == expected
        assert _outcome(lambda a=authorization: checker._parse_header(a, _request(date))) == expected


def test_a_remembered_claim_still_checks_the_signature() -> None:
    checker = verifier()
    request = signed("POST", "http://localhost:4566/", service="sqs", body=b"{}")
    run(checker.authenticate(request, s3=False))  # remembers the claim
    authorization = request.headers.get("authorization") or ""
    head, marker, _ = authorization.rpartition(", Signature=")
    assert marker
    fields = [
        (k, head + marker + "0" * 64 if k == "authorization" else v) for k, v in request.headers.items()
    ]
    forged = HttpRequest("POST", "/", "", Headers(fields), BytesBody(b"{}"))
    with pytest.raises(SigV4Failure) as raised:
        run(checker.authenticate(forged, s3=False))
    assert raised.value.kind == SIGNATURE_MISMATCH


@SETTINGS
@given(st.binary(max_size=40), st.text(max_size=300))
def test_prepared_keys_sign_as_hmac(secret: bytes, message: str) -> None:
    key = derive_signing_key(secret.hex(), "20250102", "us-east-1", "sqs")
    expected = hmac.new(key, message.encode("utf-8", "surrogateescape"), sha256).hexdigest()
    assert KeySigner(key).sign(message) == expected == sign(key, message)
