"""Helpers for the auth tests: requests signed by botocore itself, turned into our HttpRequest."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kumoi.auth.credentials import StaticCredentials, root_credential
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.clock import Clock
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BodyStream, BytesBody

T = TypeVar("T")

ACCESS_KEY = "AKIDKUMOITEST0000001"
SECRET = "kumoi/secret+key/EXAMPLE"
ACCOUNT = "111122223333"
ENDPOINT = "http://localhost:4566"


class FixedClock(Clock):
    """A clock that says what the test tells it."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at

    def now(self) -> float:
        return self.at


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def verifier(clock: Clock | None = None, **kwargs: Any) -> SigV4Verifier:
    credentials = StaticCredentials([root_credential(ACCESS_KEY, SECRET, ACCOUNT)])
    return SigV4Verifier(credentials, clock or Clock(), **kwargs)


def to_http(
    method: str, url: str, headers: Iterable[tuple[str, str | bytes]], body: bytes = b""
) -> HttpRequest:
    """An HttpRequest as the edge would build it (header values decoded as latin-1)."""
    parts = urlsplit(url)
    fields = Headers((k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in headers)
    if "host" not in fields:
        fields.add("host", parts.netloc)
    return HttpRequest(method, parts.path or "/", parts.query, fields, BytesBody(body))


def from_botocore(request: AWSRequest) -> HttpRequest:
    prepared = request.prepare()
    body = prepared.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body.read()
    return to_http(prepared.method, prepared.url, list(prepared.headers.items()), data)


def signed(
    method: str,
    url: str,
    *,
    service: str = "sqs",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    access_key: str = ACCESS_KEY,
    token: str | None = None,
    s3: bool = False,
    region: str = "us-east-1",
) -> HttpRequest:
    """A request signed by botocore's own SigV4 signer (S3SigV4Auth for S3)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer_cls = S3SigV4Auth if s3 else SigV4Auth
    signer_cls(Credentials(access_key, secret, token), service, region).add_auth(request)
    return from_botocore(request)


async def drain(body: BodyStream, size: int = 65536) -> bytes:
    parts = []
    while True:
        chunk = await body.read(size)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_chunks(
    data_chunks: list[bytes],
    *,
    key: bytes,
    amz_date: str,
    scope: str,
    seed: str,
    trailers: list[tuple[str, str]] | None = None,
) -> bytes:
    """An aws-chunked body with chained chunk signatures, built from the AWS documentation."""
    empty = hashlib.sha256(b"").hexdigest()
    previous = seed
    out = bytearray()
    for chunk in [*data_chunks, b""]:
        to_sign = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n"
            f"{hashlib.sha256(chunk).hexdigest()}"
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk
        if chunk:
            out += b"\r\n"
    if trailers is None:
        return bytes(out + b"\r\n")
    block = "".join(f"{name}:{value}\n" for name, value in trailers)
    to_sign = (
        f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
        f"{hashlib.sha256(block.encode()).hexdigest()}"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    out += f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return bytes(out)


class StreamingS3SigV4Auth(S3SigV4Auth):
    """botocore's S3 signer, declaring a STREAMING-* payload (botocore never sends signed chunks)."""

    def __init__(self, credentials: Credentials, payload: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self._payload = payload

    def payload(self, request: AWSRequest) -> str:
        return self._payload
