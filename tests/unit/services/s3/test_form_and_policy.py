"""The streaming form reader and the POST policy verifier."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from kumoi.auth.canonical import SigningKeys, sign
from kumoi.auth.credentials import StaticCredentials
from kumoi.auth.post_policy import LengthRange, PostPolicyVerifier, check_conditions
from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BytesBody
from kumoi.services.s3.form import FormReader, boundary_of

BOUNDARY = "----kumoiBoundary"


class Trickle(BytesBody):
    """A body that hands out a few bytes at a time, so boundaries straddle reads."""

    async def read(self, n: int = 1 << 20) -> bytes:
        return await super().read(min(n, 7))


def form(fields: dict[str, str], file: bytes | None, trailing: str = "") -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
    text = "".join(parts).encode()
    if file is not None:
        text += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        text += file + b"\r\n"
    return text + trailing.encode() + f"--{BOUNDARY}--\r\n".encode()


async def _read(body: bytes) -> tuple[dict[str, str], bytes | None, str | None]:
    reader = FormReader(Trickle(body), boundary_of(f"multipart/form-data; boundary={BOUNDARY}"))
    fields, file = await reader.read_fields()
    if file is None:
        return fields, None, None
    data = b"".join([chunk async for chunk in reader.file_chunks()])
    return fields, data, file.content_type


@pytest.mark.parametrize(
    "payload", [b"", b"x", b"\r\n--" + BOUNDARY.encode()[:-1] + b"x", bytes(range(256)) * 50]
)
def test_form_fields_and_file(payload: bytes) -> None:
    fields, data, content_type = asyncio.run(_read(form({"key": "k", "policy": "p"}, payload)))
    assert fields == {"key": "k", "policy": "p"}
    assert data == payload and content_type == "text/plain"


def test_form_without_file_and_bad_forms() -> None:
    fields, data, _ = asyncio.run(_read(form({"key": "k"}, None)))
    assert fields == {"key": "k"} and data is None
    for bad in (b"garbage", form({"key": "k"}, b"data")[:-30]):
        with pytest.raises(ServiceError) as info:
            asyncio.run(_read(bad))
        assert info.value.code == "MalformedPOSTRequest"
    for content_type in (None, "text/plain", "multipart/form-data"):
        with pytest.raises(ServiceError):
            boundary_of(content_type)


def _policy(conditions: list[object], expires: datetime | None = None) -> str:
    expiration = (expires or datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()


def _signed_fields(policy: str) -> dict[str, str]:
    date = datetime.now(UTC).strftime("%Y%m%d")
    key = SigningKeys().get("test", date, "us-east-1", "s3")
    return {
        "policy": policy,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": f"test/{date}/us-east-1/s3/aws4_request",
        "x-amz-date": f"{date}T000000Z",
        "x-amz-signature": sign(key, policy),
    }


def test_verifier_accepts_and_refuses() -> None:
    verifier = PostPolicyVerifier(StaticCredentials(), Clock())
    conditions: list[object] = [
        {"bucket": "bkt"},
        ["starts-with", "$key", "up/"],
        ["content-length-range", 1, 10],
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
        ["starts-with", "$x-amz-credential", ""],
        ["starts-with", "$x-amz-date", ""],
    ]
    fields = {**_signed_fields(_policy(conditions)), "key": "up/a"}
    verified = verifier.verify(fields, "bkt")
    assert verified.length_range == LengthRange(1, 10)
    assert verified.credential.account_id == "000000000000"
    with pytest.raises(ServiceError) as info:
        verifier.verify(fields, "other-bucket")
    assert info.value.code == "AccessDenied"
    with pytest.raises(ServiceError) as info:
        verifier.verify({**fields, "x-amz-signature": "0" * 64}, "bkt")
    assert info.value.code == "SignatureMismatch"
    expired = {**_signed_fields(_policy(conditions, datetime.now(UTC) - timedelta(seconds=5))), "key": "up/a"}
    with pytest.raises(ServiceError) as info:
        verifier.verify(expired, "bkt")
    assert "Policy expired" in info.value.message


def test_condition_forms() -> None:
    fields = {"key": "a/b", "content-type": "Image/PNG", "x-ignore-me": "1"}
    check_conditions([["eq", "$key", "a/b"], ["starts-with", "$Content-Type", "image/"]], fields, "b")
    with pytest.raises(ServiceError) as info:
        check_conditions([["eq", "$key", "a/b"]], fields, "b")
    assert "Extra input fields: content-type" in info.value.message
    for bad in ([["regex", "$key", "x"]], [["eq", "key", "a/b"]], "nope", [{"a": 1, "b": 2}]):
        with pytest.raises(ServiceError) as info:
            check_conditions(bad, {}, "b")
        assert info.value.code == "InvalidPolicyDocument"
