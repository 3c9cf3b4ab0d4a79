"""Requests signed by botocore's own signers and by boto3 clients verify, bodies included."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from kumoi.auth.chunked import AwsChunkedBody
from kumoi.auth.credentials import Credential, StaticCredentials
from kumoi.auth.payload import Sha256VerifyingBody
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest
from kumoi.core.streams import BytesBody
from tests.unit.auth.auth_testkit import ACCESS_KEY, ACCOUNT, SECRET, drain, run, signed, to_http, verifier


class _Captured(Exception):
    pass


def capture(
    service: str,
    call: Callable[[Any], object],
    *,
    endpoint: str = "http://localhost:4566",
    token: str | None = None,
    signature_version: str | None = None,
) -> HttpRequest:
    """What a boto3 client sends for ``call`` (caught just before it would go on the wire)."""
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, signature_version=signature_version),
    )
    sent: list[HttpRequest] = []

    def before_send(request: Any, **_: Any) -> None:
        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        else:
            data = body.read()
        sent.append(to_http(request.method, request.url, list(request.headers.items()), data))
        raise _Captured

    client.meta.events.register("before-send", before_send)
    with pytest.raises(_Captured):
        call(client)
    return sent[0]


def test_query_protocol_post_signed_by_sigv4auth() -> None:
    request = signed(
        "POST",
        "http://localhost:4566/",
        service="sts",
        body=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    result = run(verifier().authenticate(request, s3=False))
    assert (result.method, result.service, result.region) == ("header", "sts", "us-east-1")
    assert result.caller.account_id == ACCOUNT
    assert result.caller.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert isinstance(request.body, BytesBody)
    assert run(drain(request.body)) == b"Action=GetCallerIdentity&Version=2011-06-15"


def test_non_s3_path_is_double_encoded_and_normalised_like_botocore() -> None:
    request = signed("GET", "http://localhost:4566/000000000000/my%20queue/./x//y?b=2&a=%2F1", service="sqs")
    assert run(verifier().authenticate(request, s3=False)).service == "sqs"


def test_s3_path_is_not_normalised() -> None:
    request = signed(
        "GET",
        "http://localhost:4566/bucket/dir//a%20b%2Fc/../~x.txt?list-type=2&prefix=a%2Fb",
        service="s3",
        s3=True,
    )
    result = run(verifier().authenticate(request, s3=True))
    assert (result.service, result.method) == ("s3", "header")


def test_s3_signed_payload_is_verified_while_streaming() -> None:
    request = signed("PUT", "http://localhost:4566/bucket/key", service="s3", s3=True, body=b"hello world")
    run(verifier().authenticate(request, s3=True))
    assert isinstance(request.body, Sha256VerifyingBody)
    assert run(drain(request.body, 3)) == b"hello world"


def test_s3_signed_payload_mismatch_raises_before_eof() -> None:
    request = signed("PUT", "http://localhost:4566/bucket/key", service="s3", s3=True, body=b"hello world")
    request.body = BytesBody(b"hello World")
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert (caught.value.code, caught.value.status) == ("XAmzContentSHA256Mismatch", 400)


def test_boto3_put_object_over_http_signs_the_payload() -> None:
    request = capture("s3", lambda c: c.put_object(Bucket="b", Key="k", Body=b"data" * 100))
    assert request.headers.get("x-amz-content-sha256") not in (None, "UNSIGNED-PAYLOAD")
    run(verifier().authenticate(request, s3=True))
    assert run(drain(request.body)) == b"data" * 100


@pytest.mark.parametrize("algorithm", [None, "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_boto3_put_object_over_https_sends_unsigned_trailer(algorithm: str | None) -> None:
    payload = bytes(range(256)) * 300
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    request = capture(
        "s3",
        lambda c: c.put_object(Bucket="b", Key="k", Body=payload, **extra),
        endpoint="https://localhost:4566",
    )
    assert request.headers.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    result = run(verifier().authenticate(request, s3=True))
    assert result.region == "eu-west-1"
    body = request.body
    assert isinstance(body, AwsChunkedBody)
    assert body.content_length == len(payload)
    assert run(drain(body, 1000)) == payload
    name = f"x-amz-checksum-{(algorithm or 'CRC32').lower()}"
    assert name in body.trailers
    if algorithm in (None, "CRC32"):
        assert body.trailers[name] == base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()


def test_boto3_presigned_get_object() -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://localhost:4566",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4"),
    )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "a b/c+d.txt"}, ExpiresIn=300
    )
    request = to_http("GET", url, [])
    result = run(verifier().authenticate(request, s3=True))
    assert (result.method, result.service) == ("presigned", "s3")
    assert result.caller.account_id == ACCOUNT


def test_boto3_presigned_put_with_session_token() -> None:
    credential = Credential(
        "ASIATEMP",
        "tempsecret",
        "444455556666",
        "arn:aws:sts::444455556666:assumed-role/r/s",
        "AROA:s",
        session_token="tok/en+==",
        expires_at=Clock().now() + 3600,
        is_root=False,
    )
    client = boto3.client(
        "s3",
        endpoint_url="http://localhost:4566",
        region_name="us-east-1",
        aws_access_key_id="ASIATEMP",
        aws_secret_access_key="tempsecret",
        aws_session_token="tok/en+==",
        config=Config(signature_version="s3v4"),
    )
    url = client.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    request = to_http("PUT", url, [], b"anything")
    result = run(SigV4Verifier(StaticCredentials([credential]), Clock()).authenticate(request, s3=True))
    assert result.caller.session_token == "tok/en+=="
    assert not result.caller.is_root


def test_boto3_sqs_json_and_sts_query_clients() -> None:
    sqs = capture(
        "sqs", lambda c: c.send_message(QueueUrl="http://localhost:4566/000000000000/q", MessageBody="hi")
    )
    assert run(verifier().authenticate(sqs, s3=False)).service == "sqs"
    sts = capture("sts", lambda c: c.get_caller_identity())
    assert run(verifier().authenticate(sts, s3=False)).service == "sts"
    iam = capture("iam", lambda c: c.list_users())
    assert run(verifier().authenticate(iam, s3=False)).service == "iam"
    sns = capture("sns", lambda c: c.publish(TopicArn="arn:aws:sns:eu-west-1:000000000000:t", Message="m ü"))
    assert run(verifier().authenticate(sns, s3=False)).service == "sns"


def test_boto3_s3_operations_with_query_and_special_keys() -> None:
    for call in (
        lambda c: c.list_objects_v2(Bucket="b", Prefix="a/b c", Delimiter="/"),
        lambda c: c.get_object(Bucket="b", Key="dir//x!y'z(1)*~.txt", Range="bytes=0-1"),
        lambda c: c.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "k"}]}),
        lambda c: c.head_object(Bucket="b", Key="ü/ß"),
    ):
        request = capture("s3", call)
        run(verifier().authenticate(request, s3=True))
        run(drain(request.body))
