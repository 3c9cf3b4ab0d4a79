"""aws-chunked bodies: the AWS documentation's published examples, our own signed chains, and
every way a chunked body can be forged or broken."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kumoi.auth.chunked import AwsChunkedBody
from kumoi.auth.credentials import StaticCredentials, root_credential
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest
from kumoi.core.streams import BytesBody
from tests.unit.auth.auth_testkit import (
    ACCESS_KEY,
    SECRET,
    FixedClock,
    StreamingS3SigV4Auth,
    drain,
    from_botocore,
    run,
    signed_chunks,
    signing_key,
    to_http,
    verifier,
)

DOC_TIME = 1369353600.0  # 20130524T000000Z
DOC_KEY = "AKIAIOSFODNN7EXAMPLE"
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_SCOPE = "20130524/us-east-1/s3/aws4_request"


def _doc_verifier() -> SigV4Verifier:
    return SigV4Verifier(
        StaticCredentials([root_credential(DOC_KEY, DOC_SECRET, "123456789012")]), FixedClock(DOC_TIME)
    )


def _doc_request(trailer: bool, body: bytes) -> HttpRequest:
    """The PUT of the S3 docs' chunked-upload examples (66,560 bytes of 'a' in 64 KiB chunks)."""
    if trailer:
        signed = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        signed += "x-amz-storage-class;x-amz-trailer"
        seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
        extra = [("x-amz-trailer", "x-amz-checksum-crc32c")]
        payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    else:
        signed = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        signed += "x-amz-decoded-content-length;x-amz-storage-class"
        seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        extra = [("content-length", "66824")]
        payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    headers = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "authorization",
            f"AWS4-HMAC-SHA256 Credential={DOC_KEY}/{DOC_SCOPE},SignedHeaders={signed},Signature={seed}",
        ),
        ("x-amz-content-sha256", payload),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        *extra,
    ]
    return to_http("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", headers, body)


def _doc_body(signatures: list[str], trailer: str | None = None) -> bytes:
    body = f"10000;chunk-signature={signatures[0]}\r\n".encode() + b"a" * 65536 + b"\r\n"
    body += f"400;chunk-signature={signatures[1]}\r\n".encode() + b"a" * 1024 + b"\r\n"
    body += f"0;chunk-signature={signatures[2]}\r\n".encode()
    return body + (trailer.encode() if trailer else b"") + b"\r\n"


DOC_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
DOC_TRAILER_CHUNK_SIGNATURES = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
DOC_TRAILER = (
    "x-amz-checksum-crc32c:sOO8/Q==\r\n"
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
)


def test_aws_docs_signed_chunk_example() -> None:
    request = _doc_request(False, _doc_body(DOC_CHUNK_SIGNATURES))
    run(_doc_verifier().authenticate(request, s3=True))
    assert request.body.content_length == 66560
    assert run(drain(request.body)) == b"a" * 66560


def test_aws_docs_signed_trailer_example() -> None:
    request = _doc_request(True, _doc_body(DOC_TRAILER_CHUNK_SIGNATURES, DOC_TRAILER))
    run(_doc_verifier().authenticate(request, s3=True))
    assert run(drain(request.body, 1000)) == b"a" * 66560
    assert isinstance(request.body, AwsChunkedBody)
    assert request.body.trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}


@pytest.mark.parametrize("index", [0, 1, 2])
def test_aws_docs_example_with_a_tampered_chunk_signature(index: int) -> None:
    signatures = list(DOC_CHUNK_SIGNATURES)
    signatures[index] = signatures[index][:-1] + ("0" if signatures[index][-1] != "0" else "1")
    request = _doc_request(False, _doc_body(signatures))
    run(_doc_verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


def test_aws_docs_trailer_example_with_tampered_trailer_signature() -> None:
    trailer = DOC_TRAILER.replace("d81f82fc", "d81f82fd")
    request = _doc_request(True, _doc_body(DOC_TRAILER_CHUNK_SIGNATURES, trailer))
    run(_doc_verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert caught.value.code == "SignatureDoesNotMatch"


def test_aws_docs_trailer_example_with_altered_checksum_value() -> None:
    trailer = DOC_TRAILER.replace("sOO8/Q==", "AAAAAA==")
    request = _doc_request(True, _doc_body(DOC_TRAILER_CHUNK_SIGNATURES, trailer))
    run(_doc_verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert caught.value.code == "SignatureDoesNotMatch"


# -- our own chains, seeded by botocore's S3 signer -----------------------------------------------


def _streaming_request(
    chunks: list[bytes], *, trailer: list[tuple[str, str]] | None = None, mutate: bytes | None = None
) -> tuple[HttpRequest, bytes]:
    payload = (
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        if trailer is not None
        else ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    )
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(sum(map(len, chunks))),
    }
    if trailer:
        headers["X-Amz-Trailer"] = ",".join(name for name, _ in trailer)
    aws_request = AWSRequest(method="PUT", url="http://localhost:4566/bucket/key", headers=headers)
    StreamingS3SigV4Auth(Credentials(ACCESS_KEY, SECRET), payload).add_auth(aws_request)
    request = from_botocore(aws_request)
    authorization = request.headers.get("authorization") or ""
    seed = authorization.rsplit("=", 1)[1]
    amz_date = request.headers.get("x-amz-date") or ""
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = signing_key(SECRET, amz_date[:8], "us-east-1", "s3")
    body = signed_chunks(chunks, key=key, amz_date=amz_date, scope=scope, seed=seed, trailers=trailer)
    request.body = BytesBody(mutate if mutate is not None else body)
    return request, body


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize(
    "sizes",
    [[], [1], [8192, 8192, 100], [65536, 1024], [3, 5, 7, 11, 13]],
    ids=lambda s: "-".join(map(str, s)),
)
def test_signed_chains_verify(sizes: list[int]) -> None:
    chunks = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    request, _ = _streaming_request(chunks)
    run(verifier().authenticate(request, s3=True))
    assert run(drain(request.body, 4096)) == b"".join(chunks)


def test_signed_chain_with_signed_trailer_and_checksum() -> None:
    chunks = [b"x" * 9000, b"y" * 10]
    request, _ = _streaming_request(
        chunks, trailer=[("x-amz-checksum-sha256", _b64_sha256(b"".join(chunks)))]
    )
    run(verifier().authenticate(request, s3=True))
    assert run(drain(request.body)) == b"".join(chunks)


def test_signed_trailer_with_wrong_checksum_is_bad_digest() -> None:
    chunks = [b"x" * 9000]
    request, _ = _streaming_request(chunks, trailer=[("x-amz-checksum-sha256", _b64_sha256(b"other"))])
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert caught.value.code == "BadDigest"
    assert caught.value.message == (
        "The x-amz-checksum-sha256 you specified did not match the calculated checksum."
    )


def _expect_stream_error(request: HttpRequest, code: str) -> ServiceError:
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body, 1000))
    assert caught.value.code == code, caught.value
    return caught.value


def test_tampered_chunk_data_is_rejected() -> None:
    _, body = _streaming_request([b"a" * 100, b"b" * 100])
    request, _ = _streaming_request(
        [b"a" * 100, b"b" * 100], mutate=body.replace(b"b" * 100, b"b" * 99 + b"c")
    )
    _expect_stream_error(request, "SignatureDoesNotMatch")


def test_reordered_chunks_are_rejected() -> None:
    _, body = _streaming_request([b"a" * 100, b"b" * 100])
    first_end = body.index(b"\r\n", body.index(b"a" * 100)) + 2
    second_end = body.index(b"\r\n", body.index(b"b" * 100)) + 2
    swapped = body[first_end:second_end] + body[:first_end] + body[second_end:]
    request, _ = _streaming_request([b"a" * 100, b"b" * 100], mutate=swapped)
    _expect_stream_error(request, "SignatureDoesNotMatch")


@pytest.mark.parametrize("cut", [1, 10, 80, 150, 200, -40, -3, -1])
def test_truncated_bodies_are_incomplete(cut: int) -> None:
    _, body = _streaming_request([b"a" * 100])
    request, _ = _streaming_request([b"a" * 100], mutate=body[:cut])
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError) as caught:
        run(drain(request.body))
    assert caught.value.code in ("IncompleteBody", "InvalidRequest", "SignatureDoesNotMatch")
    assert caught.value.status in (400, 403)


def test_truncated_final_crlf_is_tolerated() -> None:
    _, body = _streaming_request([b"a" * 100])
    request, _ = _streaming_request([b"a" * 100], mutate=body[:-2])
    run(verifier().authenticate(request, s3=True))
    assert run(drain(request.body)) == b"a" * 100


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"zz;chunk-signature=" + b"0" * 64 + b"\r\n", "InvalidRequest"),
        (b"5\r\nhello\r\n", "InvalidRequest"),
        (b"5;chunk-signature=abc\r\nhello\r\n", "InvalidRequest"),
        (b"1" * 5000, "InvalidRequest"),
        (b"5;chunk-signature=" + b"0" * 64 + b"\r\nhelloXX\r\n", "InvalidRequest"),
        (b"5;chunk-signature=" + b"0" * 64 + b"\r\nhelloXX", "IncompleteBody"),
    ],
)
def test_malformed_framing_is_a_client_error(body: bytes, code: str) -> None:
    request, _ = _streaming_request([b"hello"], mutate=body)
    assert _expect_stream_error(request, code).status == 400


def test_decoded_length_mismatch() -> None:
    _, body = _streaming_request([b"a" * 50])
    request, _ = _streaming_request([b"a" * 100], mutate=body)
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError):
        run(drain(request.body))


# -- unsigned trailer (what boto3 sends over TLS) -------------------------------------------------


def _unsigned_trailer_request(
    body: bytes, trailer_name: str = "x-amz-checksum-crc32", length: int = 5
) -> HttpRequest:
    aws_request = AWSRequest(
        method="PUT",
        url="http://localhost:4566/bucket/key",
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Trailer": trailer_name,
            "X-Amz-Decoded-Content-Length": "5",
        },
    )
    StreamingS3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "STREAMING-UNSIGNED-PAYLOAD-TRAILER").add_auth(
        aws_request
    )
    request = from_botocore(aws_request)
    request.body = BytesBody(body)
    return request


def test_unsigned_trailer_bad_checksum_is_bad_digest() -> None:
    request = _unsigned_trailer_request(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")
    error = _expect_stream_error(request, "BadDigest")
    assert error.message == "The x-amz-checksum-crc32 you specified did not match the calculated checksum."


def test_unsigned_trailer_good_checksum_and_missing_trailer() -> None:
    good = base64.b64encode((907060870).to_bytes(4, "big")).decode()  # crc32(b"hello")
    request = _unsigned_trailer_request(f"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{good}\r\n\r\n".encode())
    run(verifier().authenticate(request, s3=True))
    assert run(drain(request.body)) == b"hello"
    missing = _unsigned_trailer_request(b"5\r\nhello\r\n0\r\n\r\n")
    _expect_stream_error(missing, "MalformedTrailerError")


def test_stream_errors_repeat_on_later_reads() -> None:
    request = _unsigned_trailer_request(b"5\r\nhel")
    run(verifier().authenticate(request, s3=True))
    with pytest.raises(ServiceError):
        run(drain(request.body))
    with pytest.raises(ServiceError):
        run(request.body.read(10))
