"""SSE-C through boto3: header validation, the key needed (and checked) on every read, copies with
copy-source keys, multipart with the same key, presigned URLs, and the key never on disk."""

from __future__ import annotations

import base64
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of
from tests.support.server import ServerProcess

KEY = os.urandom(32)
OTHER = os.urandom(32)
PART = 5 * 1024 * 1024


def sse(key: bytes = KEY) -> dict[str, Any]:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def raw_headers(key: bytes = KEY, md5_of: bytes | None = None) -> dict[str, str]:
    return {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
            hashlib.md5(md5_of if md5_of is not None else key).digest()
        ).decode(),
    }


def test_put_get_head_with_the_key(server: ServerProcess, s3: Any, bucket: str) -> None:
    data = os.urandom(200_000)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **sse())
    md5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", md5)
    assert "ServerSideEncryption" not in put
    got = s3.get_object(Bucket=bucket, Key="k", **sse())
    assert got["Body"].read() == data
    assert got["SSECustomerKeyMD5"] == md5
    ranged = s3.get_object(Bucket=bucket, Key="k", Range="bytes=70000-70009", **sse())
    assert ranged["Body"].read() == data[70000:70010]
    assert s3.head_object(Bucket=bucket, Key="k", **sse())["ContentLength"] == len(data)
    small = s3.put_object(Bucket=bucket, Key="small", Body=b"tiny secret", **sse())
    assert small["SSECustomerKeyMD5"] == md5
    assert s3.get_object(Bucket=bucket, Key="small", **sse())["Body"].read() == b"tiny secret"
    for path in server.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert KEY not in content and base64.b64encode(KEY) not in content


def test_reads_without_or_with_the_wrong_key_fail(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse())
    s3.put_object(Bucket=bucket, Key="plain", Body=b"open")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", **sse(OTHER))
    assert error_of(excinfo) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(excinfo)[1] == 400
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k", **sse(OTHER))
    assert error_of(excinfo)[1] == 403
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="plain", **sse())
    assert error_of(excinfo) == ("InvalidRequest", 400)


def _put_with_headers(client_factory: Callable[..., Any], bucket: str, headers: dict[str, str]) -> Any:
    """PutObject with exactly these SSE headers (set before signing, as a raw client would)."""
    client = client_factory("s3")

    def replace(request: Any, **_: Any) -> None:
        for name in [n for n in request.headers if n.lower().startswith("x-amz-server-side-encryption")]:
            del request.headers[name]
        for name, value in headers.items():
            request.headers[name] = value

    client.meta.events.register("before-sign.s3.PutObject", replace)
    return client.put_object(Bucket=bucket, Key="raw", Body=b"data")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        (
            {**raw_headers(), "x-amz-server-side-encryption-customer-algorithm": "AES128"},
            "InvalidEncryptionAlgorithmError",
        ),
        ({k: v for k, v in raw_headers().items() if not k.endswith("MD5")}, "InvalidRequest"),
        ({k: v for k, v in raw_headers().items() if not k.endswith("-key")}, "InvalidRequest"),
        (raw_headers(os.urandom(16)), "InvalidArgument"),
        (raw_headers(KEY, md5_of=OTHER), "InvalidArgument"),
        ({**raw_headers(), "x-amz-server-side-encryption": "AES256"}, "InvalidArgument"),
    ],
)
def test_sse_c_header_validation(
    client_factory: Callable[..., Any], bucket: str, headers: dict[str, str], code: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        _put_with_headers(client_factory, bucket, headers)
    assert error_of(excinfo) == (code, 400)


def test_copy_needs_the_source_key(s3: Any, bucket: str) -> None:
    data = os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data, **sse())
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_of(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket=bucket,
            Key="dst",
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceSSECustomerAlgorithm="AES256",
            CopySourceSSECustomerKey=OTHER,
        )
    assert error_of(excinfo) == ("AccessDenied", 403)
    copied = s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=KEY,
        **sse(OTHER),
    )
    assert copied["SSECustomerAlgorithm"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="dst", **sse(OTHER))["Body"].read() == data
    s3.copy_object(
        Bucket=bucket,
        Key="plain",
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=KEY,
    )
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == data
    s3.copy_object(
        Bucket=bucket,
        Key="src",
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=KEY,
        **sse(OTHER),
    )
    assert s3.get_object(Bucket=bucket, Key="src", **sse(OTHER))["Body"].read() == data


def test_multipart_with_the_same_key(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m", **sse())
    upload_id = upload["UploadId"]
    assert upload["SSECustomerAlgorithm"] == "AES256"
    parts = [os.urandom(PART), os.urandom(10)]
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="m", UploadId=upload_id, PartNumber=1, Body=parts[0])
    assert error_of(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="m", UploadId=upload_id, PartNumber=1, Body=parts[0], **sse(OTHER))
    assert error_of(excinfo) == ("InvalidRequest", 400)
    etags = []
    for number, body in enumerate(parts, 1):
        result = s3.upload_part(
            Bucket=bucket, Key="m", UploadId=upload_id, PartNumber=number, Body=body, **sse()
        )
        assert result["SSECustomerAlgorithm"] == "AES256"
        etags.append({"PartNumber": number, "ETag": result["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload_id, MultipartUpload={"Parts": etags})
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="m")
    assert error_of(excinfo) == ("InvalidRequest", 400)
    data = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="m", **sse())["Body"].read() == data
    ranged = s3.get_object(Bucket=bucket, Key="m", Range=f"bytes={PART - 5}-{PART + 4}", **sse())
    assert ranged["Body"].read() == data[PART - 5 : PART + 5]


def test_presigned_get_with_sse_c(client_factory: Callable[..., Any], s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned secret", **sse())
    # SigV4 presigning signs the SSE-C headers; the request must then send them.
    s3 = client_factory("s3", config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "p", **sse()}, ExpiresIn=60
    )
    request = urllib.request.Request(url, headers=raw_headers())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"presigned secret"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(urllib.request.Request(url, headers=raw_headers(OTHER)), timeout=10)
    assert excinfo.value.code == 403
