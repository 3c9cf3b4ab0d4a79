"""Hand-built, correctly signed (or deliberately broken) HTTP requests for front-door tests."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDENTIALS = Credentials("test", "test")


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class _DeclaredPayloadS3Auth(S3SigV4Auth):  # type: ignore[misc]
    """S3 signing that keeps the caller's ``X-Amz-Content-SHA256`` (botocore replaces it)."""

    def __init__(self, declared: str, region: str) -> None:
        super().__init__(CREDENTIALS, "s3", region)
        self._declared = declared

    def payload(self, request: AWSRequest) -> str:
        return self._declared


def signed_headers(
    method: str, url: str, body: bytes, headers: dict[str, str], service: str, region: str = "us-east-1"
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    declared = {k.lower(): v for k, v in headers.items()}.get("x-amz-content-sha256")
    if service != "s3":
        signer = SigV4Auth(CREDENTIALS, service, region)
    elif declared is not None:
        signer = _DeclaredPayloadS3Auth(declared, region)
    else:
        signer = S3SigV4Auth(CREDENTIALS, service, region)
    signer.add_auth(request)
    signed = dict(request.headers.items())
    signed.setdefault("Host", urlsplit(url).netloc)
    return signed


def send(
    endpoint: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
) -> RawResponse:
    """Send exactly these bytes (no client-side fix-ups) and read the whole response."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        names = set()
        for name, value in items:
            names.add(name.lower())
            connection.putheader(name, value)
        if "host" not in names:
            connection.putheader("Host", f"{parts.hostname}:{parts.port}")
        if "content-length" not in names and "transfer-encoding" not in names:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def signed_send(
    endpoint: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    service: str,
    headers: dict[str, str] | None = None,
) -> RawResponse:
    all_headers = dict(headers or {})
    if service == "s3":
        all_headers.setdefault("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")
    return send(
        endpoint, method, path, body, signed_headers(method, endpoint + path, body, all_headers, service)
    )
