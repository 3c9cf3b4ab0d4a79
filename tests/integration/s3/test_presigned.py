"""Presigned URLs (SigV2 and SigV4) for GET/PUT/HEAD/DELETE, and their expiry."""

from __future__ import annotations

import http.client
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess, running_server

SIGNATURES = ["s3", "s3v4"]


def _client(endpoint: str, signature: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version=signature, retries={"max_attempts": 1}),
    )


def _call(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    """Send exactly what a browser or curl would: no extra headers a signature might not cover."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(method, f"{parts.path}?{parts.query}", body=data)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("signature", SIGNATURES)
def test_presigned_get_put_head_delete(server: ServerProcess, s3: Any, bucket: str, signature: str) -> None:
    client = _client(server.endpoint, signature)
    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "p k"}, ExpiresIn=300
    )
    assert _call(put_url, "PUT", b"presigned body")[0] == 200
    get_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "p k"}, ExpiresIn=300
    )
    assert _call(get_url) == (200, b"presigned body")
    head_url = client.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "p k"})
    assert _call(head_url, "HEAD")[0] == 200
    delete_url = client.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "p k"})
    assert _call(delete_url, "DELETE")[0] == 204
    status, body = _call(get_url)
    assert status == 404 and b"NoSuchKey" in body


def test_tampered_presigned_url_is_refused(server: ServerProcess, bucket: str) -> None:
    client = _client(server.endpoint, "s3v4")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
    status, body = _call(url.replace("/a?", "/b?"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


@pytest.fixture
def clock_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own: moving its clock would make every later signed request look skewed."""
    with running_server(tmp_path / "data", args=("--test-clock",)) as process:
        yield process


def _advance(server: ServerProcess, seconds: float) -> None:
    request = urllib.request.Request(
        f"{server.endpoint}/_kumoi/clock", data=json.dumps({"advance": seconds}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


@pytest.mark.parametrize("signature", SIGNATURES)
def test_presigned_url_expires(clock_server: ServerProcess, signature: str) -> None:
    client = _client(clock_server.endpoint, signature)
    name = f"expiry-{signature.replace('3', 'x')}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="k", Body=b"v")
    url = client.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"}, ExpiresIn=60)
    assert _call(url) == (200, b"v")
    _advance(clock_server, 120)
    status, body = _call(url)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body
