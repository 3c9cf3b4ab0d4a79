"""Hostile and malformed S3 requests get S3's errors; error and quirk encodings as S3 sends them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.parsers import RestXMLParser

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import MAX_DOCUMENT_BODY, BytesBody
from kumoi.protocol.base import DecodedRequest
from kumoi.protocol.rest_s3 import S3_NAMESPACE, CopySource, parse_copy_source
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.protocol.xml import parse

MODEL = service_model("s3")
CODEC = RestXmlCodec(MODEL)


def _request(
    method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: Any = b""
) -> HttpRequest:
    """The request, with the ``Content-MD5`` of a ``bytes`` body an SDK would send (operations
    such as PutBucketTagging refuse requests without one)."""
    all_headers = dict(headers or {})
    if isinstance(body, bytes):
        all_headers.setdefault("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode())
    stream = BytesBody(body) if isinstance(body, bytes) else body
    return HttpRequest(method, path, query, Headers(all_headers.items()), stream)


def _decode(request: HttpRequest) -> DecodedRequest:
    return asyncio.run(CODEC.decode(request))


def _error(request: HttpRequest) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        _decode(request)
    return info.value


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging><TagSet><Tag><Key>a</Key></TagSet></Tagging>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<Tagging>&lol2;</Tagging>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Tagging>&e;</Tagging>',
        b"<Tagging></Tagging><Tagging></Tagging>",
    ],
)
def test_malformed_xml(body: bytes) -> None:
    error = _error(_request("PUT", "/b", "tagging", body=body))
    assert error.code == "MalformedXML"
    assert error.status == 400
    assert error.message.startswith("The XML you provided was not well-formed")


def test_bad_value_inside_xml_is_malformed() -> None:
    body = b"<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>"
    assert _error(_request("POST", "/b", "delete", body=body)).code == "MalformedXML"


class _Endless:
    """A body that never ends: the codec must stop reading past the limit."""

    content_length = None

    def __init__(self) -> None:
        self.read_bytes = 0

    async def read(self, n: int = 1 << 20) -> bytes:
        self.read_bytes += n
        return b" " * n


def test_oversized_bodies() -> None:
    declared = _request("PUT", "/b", "tagging", body=b"<Tagging/>")
    declared.body = BytesBody(b" " * (MAX_DOCUMENT_BODY + 1))
    assert _error(declared).code == "MaxMessageLengthExceeded"
    endless = _Endless()
    assert _error(_request("PUT", "/b", "tagging", body=endless)).code == "MaxMessageLengthExceeded"
    assert endless.read_bytes <= MAX_DOCUMENT_BODY + (2 << 20)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/b/%zz", ""),
        ("/b/%4", ""),
        ("/b/%C3%28", ""),
        ("/b/%FF", ""),
        ("/b", "prefix=%E0%80"),
        ("/b", "a=%g1"),
    ],
)
def test_invalid_uri(path: str, query: str) -> None:
    error = _error(_request("GET", path, query))
    assert (error.code, error.status) == ("InvalidURI", 400)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "argument"),
    [
        ("GET", "/b/k", "partNumber=one", {}, "partNumber"),
        ("GET", "/b", "max-keys=10x", {}, "max-keys"),
        ("PUT", "/b/k", "", {"content-length": "abc"}, "content-length"),
        ("PUT", "/b/k", "", {"x-amz-server-side-encryption-bucket-key-enabled": "perhaps"}, None),
        (
            "PUT",
            "/b/k",
            "",
            {"x-amz-object-lock-retain-until-date": "soon"},
            "x-amz-object-lock-retain-until-date",
        ),
    ],
)
def test_invalid_argument(
    method: str, path: str, query: str, headers: dict[str, str], argument: str | None
) -> None:
    error = _error(_request(method, path, query, headers))
    assert error.code == "InvalidArgument"
    assert error.fields["ArgumentName"] == (argument or next(iter(headers)))


def test_lenient_conditional_dates_and_header_types() -> None:
    decoded = _decode(
        _request(
            "GET",
            "/b/k",
            "partNumber=2&response-expires=Wed,%2021%20Oct%202015%2007:28:00%20GMT",
            {
                "if-modified-since": "not a date",
                "if-unmodified-since": "Wed, 21 Oct 2015 07:28:00 GMT",
                "x-amz-checksum-mode": "ENABLED",
            },
        )
    )
    params = decoded.params
    assert "IfModifiedSince" not in params
    assert params["IfUnmodifiedSince"] == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert params["ResponseExpires"] == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert params["PartNumber"] == 2


def test_put_object_streams_and_maps_metadata() -> None:
    body = BytesBody(b"payload")
    request = _request(
        "PUT",
        "/b/a%20b",
        "",
        {"content-length": "7", "x-amz-meta-color": "blue", "X-Amz-Meta-Cafe": "na\u00c3\u00afve"},
    )
    request.body = body
    decoded = _decode(request)
    assert decoded.operation == "PutObject"
    assert decoded.params["Body"] is body
    assert body.content_length == 7 and asyncio.run(body.read(100)) == b"payload"
    assert decoded.params["Metadata"] == {"color": "blue", "cafe": "na\u00efve"}
    assert decoded.params["ContentLength"] == 7


def test_key_too_long() -> None:
    assert _decode(_request("GET", "/b/" + "k" * 1024)).params["Key"] == "k" * 1024
    assert _error(_request("GET", "/b/" + "k" * 1025)).code == "KeyTooLongError"
    assert _error(_request("GET", "/b/" + "%C3%A9" * 513)).code == "KeyTooLongError"


def test_copy_source() -> None:
    assert parse_copy_source("/src/a%20b/c%2Bd+e?versionId=v%2B1") == CopySource("src", "a b/c+d+e", "v+1")
    assert parse_copy_source("src/k") == CopySource("src", "k", None)
    for bad in ("src", "/src/", "src/k?versionId=", "src/k?other=1", "src/%zz"):
        with pytest.raises(ServiceError) as info:
            parse_copy_source(bad)
        assert info.value.code == "InvalidArgument"
        assert info.value.fields["ArgumentName"] == "x-amz-copy-source"
    error = _error(_request("PUT", "/b/k", "", {"x-amz-copy-source": "nokey"}))
    assert error.code == "InvalidArgument"


def test_post_object_and_method_not_allowed() -> None:
    body = BytesBody(b"--x--")
    request = _request("POST", "/bucket", "", {"content-type": "multipart/form-data; boundary=x"})
    request.body = body
    decoded = _decode(request)
    assert decoded.operation == "PostObject"
    assert decoded.params["Bucket"] == "bucket"
    assert decoded.params["Body"] is body
    assert decoded.params["ContentType"].startswith("multipart/form-data")
    assert decoded.params["Request"] is request
    error = _error(_request("PATCH", "/b/k"))
    assert (error.code, error.status, error.fields["ResourceType"]) == ("MethodNotAllowed", 405, "OBJECT")
    assert CODEC.match("PATCH", "/", "") is None


def test_error_document() -> None:
    error = ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": "a&b"})
    error.headers["x-amz-delete-marker"] = "true"
    response = CODEC.encode_error(error, "REQ1")
    assert response.status == 404
    assert response.header("Content-Type") == "application/xml"
    assert response.header("x-amz-request-id") == "REQ1"
    assert response.header("x-amz-id-2")
    assert response.header("x-amz-delete-marker") == "true"
    assert isinstance(response.body, bytes) and response.content_length == len(response.body)
    root = parse(response.body)
    assert root.tag == "Error"
    assert [child.tag for child in root] == ["Code", "Message", "Key", "RequestId", "HostId"]
    assert root.find("Key").text == "a&b"  # type: ignore[union-attr]
    parsed = RestXMLParser().parse(
        {"status_code": 404, "headers": dict(response.headers), "body": response.body}, None
    )
    assert parsed["Error"]["Code"] == "NoSuchKey"
    assert parsed["ResponseMetadata"]["RequestId"] == "REQ1"


def test_empty_output_and_status() -> None:
    response = CODEC.encode("DeleteObject", {}, "R")
    assert (response.status, response.body, response.content_length) == (204, b"", 0)
    response = CODEC.encode("PutObject", {"ETag": '"abc"', "VersionId": "v1"}, "R")
    assert response.status == 200 and response.body == b"" and response.content_length == 0
    assert response.header("ETag") == '"abc"' and response.header("x-amz-version-id") == "v1"


def test_get_object_streams_body_and_headers() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data"

    stream = chunks()
    when = datetime(2009, 10, 12, 17, 50, 30, tzinfo=UTC)
    response = CODEC.encode(
        "GetObject",
        {
            "Body": stream,
            "ContentLength": 4,
            "LastModified": when,
            "Metadata": {"k": "v"},
            "ContentType": "a/b",
        },
        "R",
    )
    assert response.body is stream and response.content_length == 4
    assert response.header("Last-Modified") == "Mon, 12 Oct 2009 17:50:30 GMT"
    assert response.header("x-amz-meta-k") == "v" and response.header("Content-Type") == "a/b"
    assert response.header("Content-Length") is None
    head = CODEC.encode("HeadObject", {"ContentLength": 1000}, "R")
    assert head.body == b"" and head.content_length == 1000


def test_list_objects_v2_document() -> None:
    when = datetime(2009, 10, 12, 17, 50, 30, tzinfo=UTC)
    output = {
        "Name": "b",
        "IsTruncated": False,
        "KeyCount": 2,
        "Contents": [{"Key": "a", "LastModified": when, "Size": 1}, {"Key": "b<", "Size": 2}],
        "CommonPrefixes": [{"Prefix": "p/"}],
    }
    body = CODEC.encode("ListObjectsV2", output, "R").body
    assert isinstance(body, bytes)
    text = body.decode()
    assert text.startswith(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3_NAMESPACE}">'
    )
    assert "<Contents><Key>a</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>" in text
    assert "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>" in text
    assert "<Key>b&lt;</Key>" in text


@pytest.mark.parametrize(("region", "text"), [("eu-west-1", "eu-west-1"), ("us-east-1", ""), (None, "")])
def test_get_bucket_location(region: str | None, text: str) -> None:
    output = {} if region is None else {"LocationConstraint": region}
    body = CODEC.encode("GetBucketLocation", output, "R").body
    assert (
        body
        == (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{S3_NAMESPACE}">{text}'
            "</LocationConstraint>"
        ).encode()
    )


def test_grantee_type_attribute_round_trips() -> None:
    body = (
        b"<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="
        b'"http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>id1</ID></Grantee>'
        b"<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"
    )
    decoded = _decode(_request("PUT", "/b", "acl", body=body))
    grant = decoded.params["AccessControlPolicy"]["Grants"][0]
    assert grant == {"Grantee": {"Type": "CanonicalUser", "ID": "id1"}, "Permission": "READ"}
    output = {"Grants": [grant], "Owner": {"ID": "o"}}
    text = CODEC.encode("GetBucketAcl", output, "R").body
    assert isinstance(text, bytes)
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"' in text
