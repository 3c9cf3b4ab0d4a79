"""Property tests: any change to a signed request is refused; parsers meet hostile input with
clean AWS errors only; our canonical forms agree with botocore's on arbitrary input."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path, percent_encode_sequence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumoi.auth.canonical import canonical_query, canonical_uri
from kumoi.auth.chunked import AwsChunkedBody
from kumoi.auth.errors import SigV4Failure
from kumoi.core.errors import AuthFailure, ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from tests.unit.auth.auth_testkit import ACCESS_KEY, SECRET, drain, run, signed, to_http, verifier

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BODY = b"Action=SendMessage&MessageBody=hello+world"


def _base() -> HttpRequest:
    return signed(
        "POST",
        "http://localhost:4566/000000000000/queue-name?Version=2012-11-05&Extra=value",
        service="sqs",
        body=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Custom": "custom-value"},
    )


def _swap(text: str, index: int, replacement: str) -> str:
    index %= len(text)
    if text[index] == replacement:
        replacement = "Z" if replacement != "Z" else "Y"
    return text[:index] + replacement + text[index + 1 :]


@SETTINGS
@given(
    target=st.sampled_from(["method", "path", "query", "header", "body", "signature", "token"]),
    index=st.integers(min_value=0, max_value=10_000),
    char=st.sampled_from(ALNUM),
)
def test_any_mutation_of_a_signed_request_is_rejected(target: str, index: int, char: str) -> None:
    request = _base()
    if target == "method":
        request.method = ["GET", "PUT", "DELETE", "HEAD"][index % 4]
    elif target == "path":
        prefix = "/000000000000/"
        request.path = prefix + _swap(request.path[len(prefix) :], index, char)
    elif target == "query":
        request.query_string = _swap(request.query_string, index, char)
    elif target == "header":
        items = [(k, _swap(v, index, char) if k == "x-custom" else v) for k, v in request.headers.items()]
        request.headers = Headers(items)
    elif target == "body":
        position = index % len(BODY)
        request.body = BytesBody(BODY[:position] + bytes([BODY[position] ^ 1]) + BODY[position + 1 :])
    elif target == "signature":
        authorization = request.headers.get("authorization") or ""
        head, signature = authorization.rsplit("=", 1)
        flipped = _swap(signature, index, "0123456789abcdef"[index % 16])
        items = [(k, f"{head}={flipped}" if k == "authorization" else v) for k, v in request.headers.items()]
        request.headers = Headers(items)
    else:
        request.headers.add("x-amz-security-token", char * 8)
    try:
        run(verifier().authenticate(request, s3=False))
    except SigV4Failure:
        return
    raise AssertionError(f"mutated {target} was accepted")


@SETTINGS
@given(
    authorization=st.text(alphabet=st.characters(max_codepoint=255), max_size=300),
    query=st.text(alphabet=st.characters(max_codepoint=255), max_size=200),
    s3=st.booleans(),
)
def test_hostile_authorization_and_query_give_auth_failures_only(
    authorization: str, query: str, s3: bool
) -> None:
    headers = [("authorization", authorization), ("x-amz-date", "20200101T000000Z"), ("host", "h")]
    for request in (
        HttpRequest("GET", "/b/k", query, Headers(headers), BytesBody(b"")),
        HttpRequest(
            "GET", "/b/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&" + query, Headers(headers[2:]), BytesBody()
        ),
        HttpRequest("GET", "/b/k", "X-Amz-Credential=" + query, Headers(headers[2:]), BytesBody()),
    ):
        with contextlib.suppress(AuthFailure):
            run(verifier().authenticate(request, s3=s3))


@SETTINGS
@given(
    raw=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.one_of(
                st.binary(max_size=40),
                st.sampled_from(
                    [b"\r\n", b"0\r\n", b"5\r\n", b"5;chunk-signature=" + b"a" * 64 + b"\r\n", b":"]
                ),
            ),
            max_size=12,
        ).map(b"".join),
    ),
    signed_=st.booleans(),
    trailer=st.booleans(),
    read_size=st.integers(min_value=1, max_value=64),
    decoded=st.one_of(st.none(), st.integers(min_value=0, max_value=20)),
)
def test_chunk_decoder_never_leaks_exceptions(
    raw: bytes, signed_: bool, trailer: bool, read_size: int, decoded: int | None
) -> None:
    body = AwsChunkedBody(
        BytesBody(raw),
        signed=signed_,
        trailer=trailer,
        declared_trailers=("x-amz-checksum-crc32",) if trailer else (),
        decoded_length=decoded,
    )
    try:
        run(drain(body, read_size))
    except ServiceError as error:
        assert 400 <= error.status < 500


@SETTINGS
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=12), max_size=6))
def test_canonical_query_matches_botocore(params: dict[str, str]) -> None:
    query = percent_encode_sequence(params)
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET), "sqs", "us-east-1")
    assert canonical_query(query) == signer._canonical_query_string_params(params)


@SETTINGS
@given(st.text(min_size=1, max_size=40))
def test_s3_sdk_paths_are_already_canonical(key: str) -> None:
    path = "/bucket/" + quote(key, safe="/~")
    assert canonical_uri(path, s3=True) == path


@SETTINGS
@given(st.text(alphabet=ALNUM + "/.%-_~!$&'()*+,;=:@", max_size=40))
def test_other_paths_are_normalised_and_double_encoded_like_botocore(path: str) -> None:
    path = "/" + path
    assert canonical_uri(path, s3=False) == quote(normalize_url_path(path), safe="/~")


def test_to_http_round_trip_sanity() -> None:
    request = to_http("GET", "http://h:1/a?b=c", [])
    assert (request.path, request.query_string, request.host) == ("/a", "b=c", "h:1")
