"""Malformed and hostile requests get the AWS error AWS would send, never a 500, and stored data
stays untouched."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.support.raw import RawResponse, send, signed_headers, signed_send
from tests.support.server import ServerProcess

JSON_TYPE = "application/x-amz-json-1.0"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def xml_code(response: RawResponse) -> str:
    text = response.body.decode()
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def post_signed(server: ServerProcess, body: bytes, headers: dict[str, str], service: str) -> RawResponse:
    """A signed POST to the service root (the JSON and query protocols)."""
    return send(
        server.endpoint,
        "POST",
        "/",
        body,
        signed_headers("POST", server.endpoint + "/", body, headers, service),
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"bad-input-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="keep", Body=b"precious")
    return name


def stored_files(server: ServerProcess) -> set[Path]:
    return {path for path in (server.data_dir / "blobs").rglob("*") if path.is_file()}


def assert_kept(s3: Any, bucket: str) -> None:
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"precious"


def test_malformed_xml(server: ServerProcess, s3: Any, bucket: str) -> None:
    body = b"<Tagging><TagSet>"
    checksum = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    response = signed_send(server.endpoint, "PUT", f"/{bucket}?tagging", body, service="s3", headers=checksum)
    assert (response.status, xml_code(response)) == (400, "MalformedXML")
    assert_kept(s3, bucket)


def test_xml_entity_declarations_are_refused(server: ServerProcess, s3: Any, bucket: str) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<Delete><Object><Key>&b;</Key></Object></Delete>"
    )
    response = signed_send(
        server.endpoint,
        "POST",
        f"/{bucket}?delete",
        bomb,
        service="s3",
        headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="},
    )
    assert response.status == 400
    assert xml_code(response) in ("MalformedXML", "InvalidDigest", "BadDigest")
    assert_kept(s3, bucket)


def test_malformed_json(server: ServerProcess) -> None:
    headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSQS.ListQueues"}
    body = b'{"QueueNamePrefix": '
    response = post_signed(server, body, headers, "sqs")
    assert response.status == 400
    assert "SerializationException" in json.loads(response.body)["__type"]


@pytest.mark.parametrize(
    "body",
    [b'{"QueueName": "q\\ud800"}', b'{"QueueName": "q\xed\xa0\x80"}', b'{"q\\udfff": "x"}'],
    ids=["escaped", "utf-8-form", "in-a-key"],
)
def test_json_text_with_a_lone_surrogate_is_refused(server: ServerProcess, body: bytes) -> None:
    """No UTF-8 can carry an unpaired surrogate: refused as the body it came in, not stored."""
    headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSQS.GetQueueUrl"}
    response = post_signed(server, body, headers, "sqs")
    assert response.status == 400
    assert "SerializationException" in json.loads(response.body)["__type"]


def test_json_astral_characters_escaped_as_surrogate_pairs_are_text(server: ServerProcess) -> None:
    body = json.dumps({"QueueName": "q\U0001f600"}).encode()  # "q\ud83d\ude00", as SDKs write it
    assert b"\\ud83d\\ude00" in body
    headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSQS.GetQueueUrl"}
    response = post_signed(server, body, headers, "sqs")
    assert response.status == 400
    assert "QueueDoesNotExist" in json.loads(response.body)["__type"]


def test_json_wrong_content_type(server: ServerProcess) -> None:
    headers = {"Content-Type": "text/plain", "X-Amz-Target": "AmazonSQS.ListQueues"}
    response = post_signed(server, b"{}", headers, "sqs")
    assert 400 <= response.status < 500


def test_malformed_query_string(server: ServerProcess) -> None:
    body = b"Action=ListQueues&Version=2012-11-05&QueueNamePrefix=%FF%FE"
    headers = {"Content-Type": FORM_TYPE}
    response = post_signed(server, body, headers, "sqs")
    assert response.status == 400
    assert xml_code(response) == "MalformedQueryString"


def test_unknown_query_action(server: ServerProcess) -> None:
    body = b"Action=MakeCoffee&Version=2011-06-15"
    response = post_signed(server, body, {"Content-Type": FORM_TYPE}, "sts")
    assert (response.status, xml_code(response)) == (400, "InvalidAction")


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256",
        "Bearer something",
    ],
)
def test_incomplete_authorization(server: ServerProcess, bucket: str, authorization: str) -> None:
    response = send(
        server.endpoint,
        "GET",
        f"/{bucket}/keep",
        headers={
            "Authorization": authorization,
            "X-Amz-Date": "20260101T000000Z",
            "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        },
    )
    assert 400 <= response.status < 500
    assert xml_code(response) in (
        "AuthorizationHeaderMalformed",
        "InvalidArgument",
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidRequest",
    )


def test_duplicated_authorization(server: ServerProcess, bucket: str) -> None:
    headers = signed_headers(
        "GET", f"{server.endpoint}/{bucket}/keep", b"", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, "s3"
    )
    items = [*headers.items(), ("Authorization", headers["Authorization"])]
    response = send(server.endpoint, "GET", f"/{bucket}/keep", headers=items)
    assert 400 <= response.status < 500


def test_wrong_signature(server: ServerProcess, bucket: str) -> None:
    headers = signed_headers(
        "GET", f"{server.endpoint}/{bucket}/keep", b"", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, "s3"
    )
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    response = send(server.endpoint, "GET", f"/{bucket}/keep", headers=headers)
    assert (response.status, xml_code(response)) == (403, "SignatureDoesNotMatch")


def _chunked_put(server: ServerProcess, bucket: str, payload: bytes, declared: int) -> RawResponse:
    path = f"/{bucket}/keep"
    headers = {
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(declared),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    }
    signed = signed_headers("PUT", server.endpoint + path, b"", headers, "s3")
    signed["Content-Length"] = str(len(payload))
    return send(server.endpoint, "PUT", path, payload, signed)


def test_truncated_chunked_body(server: ServerProcess, s3: Any, bucket: str) -> None:
    response = _chunked_put(server, bucket, b"10\r\nonly-part", declared=16)
    assert 400 <= response.status < 500
    assert_kept(s3, bucket)


def test_bad_trailer_checksum(server: ServerProcess, s3: Any, bucket: str) -> None:
    payload = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    response = _chunked_put(server, bucket, payload, declared=5)
    assert (response.status, xml_code(response)) == (400, "BadDigest")
    assert_kept(s3, bucket)
    right = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big"))
    payload = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + right + b"\r\n\r\n"
    accepted = _chunked_put(server, bucket, payload, declared=5)
    assert (accepted.status, accepted.headers.get("x-amz-checksum-crc32")) == (200, right.decode())


def test_oversized_headers(server: ServerProcess, bucket: str) -> None:
    headers = {f"x-filler-{i}": "x" * 1000 for i in range(100)}
    response = send(server.endpoint, "GET", f"/{bucket}/keep", headers=headers)
    assert (response.status, xml_code(response)) == (400, "RequestHeaderSectionTooLarge")


def test_non_utf8_key(server: ServerProcess, s3: Any, bucket: str) -> None:
    response = signed_send(server.endpoint, "PUT", f"/{bucket}/bad%FF%FEkey", b"x", service="s3")
    assert (response.status, xml_code(response)) == (400, "InvalidURI")
    assert_kept(s3, bucket)


def test_dns_rebinding_host_is_refused(server: ServerProcess, bucket: str) -> None:
    headers = signed_headers(
        "GET",
        f"http://attacker.example:{server.port}/{bucket}/keep",
        b"",
        {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
        "s3",
    )
    response = send(server.endpoint, "GET", f"/{bucket}/keep", headers=headers)
    assert (response.status, xml_code(response)) == (400, "InvalidHostHeader")


def test_virtual_host_style(server: ServerProcess, bucket: str) -> None:
    url = f"http://{bucket}.localhost:{server.port}/keep"
    headers = signed_headers("GET", url, b"", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, "s3")
    response = send(server.endpoint, "GET", "/keep", headers=headers)
    assert (response.status, response.body) == (200, b"precious")


@pytest.mark.parametrize("target", ["object", "part"])
def test_a_large_body_that_is_not_the_signed_payload_is_refused_and_stores_nothing(
    server: ServerProcess, s3: Any, bucket: str, target: str
) -> None:
    """The signed-payload hash of a streamed body is checked in the blob store's own pass over the
    bytes; a mismatch still answers XAmzContentSHA256Mismatch and leaves no blob, part or object."""
    signed = bytes(range(256)) * 1024
    sent = signed[:-1] + bytes([signed[-1] ^ 1])
    path = f"/{bucket}/keep"
    if target == "part":
        upload = s3.create_multipart_upload(Bucket=bucket, Key="parted")["UploadId"]
        path = f"/{bucket}/parted?partNumber=1&uploadId={upload}"
    blobs_before = stored_files(server)
    declared = {"X-Amz-Content-SHA256": hashlib.sha256(signed).hexdigest()}
    headers = signed_headers("PUT", server.endpoint + path, sent, declared, "s3")
    response = send(server.endpoint, "PUT", path, sent, headers)
    assert (response.status, xml_code(response)) == (400, "XAmzContentSHA256Mismatch")
    assert stored_files(server) <= blobs_before
    assert_kept(s3, bucket)
    if target == "part":
        assert s3.list_parts(Bucket=bucket, Key="parted", UploadId=upload).get("Parts", []) == []
    headers = signed_headers("PUT", server.endpoint + path, signed, declared, "s3")
    assert send(server.endpoint, "PUT", path, signed, headers).status == 200


@pytest.mark.parametrize("target", ["object", "part"])
def test_a_large_chunked_body_with_a_wrong_trailer_checksum_is_refused_and_stores_nothing(
    server: ServerProcess, s3: Any, bucket: str, target: str
) -> None:
    """The declared trailer checksum of a streamed aws-chunked body is computed once, in the blob
    store's pass; a mismatch still answers BadDigest and leaves no blob, part or object."""
    data = bytes(range(256)) * 1024
    chunks = b"".join(b"%x\r\n%s\r\n" % (65536, data[at : at + 65536]) for at in range(0, len(data), 65536))
    path = f"/{bucket}/keep"
    if target == "part":
        upload = s3.create_multipart_upload(Bucket=bucket, Key="parted")["UploadId"]
        path = f"/{bucket}/parted?partNumber=1&uploadId={upload}"
    blobs_before = stored_files(server)

    def put(trailer: bytes) -> RawResponse:
        payload = chunks + b"0\r\nx-amz-checksum-crc32:" + trailer + b"\r\n\r\n"
        headers = {
            "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
            "X-Amz-Trailer": "x-amz-checksum-crc32",
        }
        signed = signed_headers("PUT", server.endpoint + path, b"", headers, "s3")
        signed["Content-Length"] = str(len(payload))
        return send(server.endpoint, "PUT", path, payload, signed)

    right = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
    refused = put(base64.b64encode(zlib.crc32(data[:-1]).to_bytes(4, "big")))
    assert (refused.status, xml_code(refused)) == (400, "BadDigest")
    assert stored_files(server) <= blobs_before
    assert_kept(s3, bucket)
    if target == "part":
        assert s3.list_parts(Bucket=bucket, Key="parted", UploadId=upload).get("Parts", []) == []
    accepted = put(right)
    assert accepted.status == 200
    if target == "object":  # stored as the object's checksum (x-amz-trailer named it, no SDK header)
        assert accepted.headers.get("x-amz-checksum-crc32") == right.decode()


@pytest.mark.parametrize("query", ["", "?acl", "?tagging"])
def test_a_post_to_an_object_that_names_no_upload_is_not_allowed(
    server: ServerProcess, s3: Any, bucket: str, query: str
) -> None:
    """POST on an object is only ever an operation on a multipart upload (or a restore or
    select): without ``?uploadId`` S3 answers MethodNotAllowed for the OBJECT resource."""
    response = signed_send(server.endpoint, "POST", f"/{bucket}/keep{query}", b"<a/>", service="s3")
    assert (response.status, xml_code(response)) == (405, "MethodNotAllowed")
    assert b"<ResourceType>OBJECT</ResourceType>" in response.body
    assert_kept(s3, bucket)


def test_a_put_that_names_an_upload_but_no_part_is_not_allowed(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="keep")["UploadId"]
    response = signed_send(
        server.endpoint, "PUT", f"/{bucket}/keep?uploadId={upload}", b"other", service="s3"
    )
    assert (response.status, xml_code(response)) == (405, "MethodNotAllowed")
    assert b"<ResourceType>UPLOAD</ResourceType>" in response.body
    assert {name.lower(): value for name, value in response.headers.items()}["allow"] == "DELETE, POST, GET"
    assert_kept(s3, bucket)


@pytest.mark.parametrize(
    "header",
    [
        {"If-Modified-Since": "99999999999999999999"},
        {"If-Unmodified-Since": "0001-01-01T00:00:00+10:00"},
    ],
    ids=["epoch-beyond-any-year", "before-year-one-in-utc"],
)
def test_a_date_no_calendar_holds_is_not_a_date(
    server: ServerProcess, bucket: str, header: dict[str, str]
) -> None:
    """An unparseable conditional date is ignored, as S3 ignores one it cannot read."""
    response = signed_send(server.endpoint, "GET", f"/{bucket}/keep", service="s3", headers=header)
    assert (response.status, response.body) == (200, b"precious")


def test_a_retention_date_no_calendar_holds_is_an_invalid_argument(
    server: ServerProcess, bucket: str
) -> None:
    headers = {
        "x-amz-object-lock-mode": "GOVERNANCE",
        "x-amz-object-lock-retain-until-date": "99999999999999999999",
        "Content-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode(),
    }
    response = signed_send(server.endpoint, "PUT", f"/{bucket}/other", b"x", service="s3", headers=headers)
    assert (response.status, xml_code(response)) == (400, "InvalidArgument")


def test_an_error_that_quotes_a_control_character_is_still_xml(server: ServerProcess) -> None:
    """IAM quotes the name it refuses; XML cannot carry U+0001 even as a reference."""
    body = b"Action=CreateUser&Version=2010-05-08&UserName=%01bad"
    response = post_signed(server, body, {"Content-Type": FORM_TYPE}, "iam")
    assert (response.status, xml_code(response)) == (400, "ValidationError")
    ElementTree.fromstring(response.body)
    assert "\ufffdbad" in response.body.decode()
