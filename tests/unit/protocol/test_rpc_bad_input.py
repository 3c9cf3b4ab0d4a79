"""Hostile and malformed requests give AWS's errors, never an unexpected exception."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import MAX_DOCUMENT_BODY, BytesBody
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model

FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON10 = "application/x-amz-json-1.0"

STS = QueryCodec(service_model("sts"))
SNS = QueryCodec(service_model("sns"))
SQS_QUERY = QueryCodec(sqs_query_model())
SQS_JSON = JsonCodec(sqs_json_model())


def run(coroutine: Any) -> Any:
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


def form(
    body: bytes | str,
    method: str = "POST",
    query: str = "",
    content_type: str = FORM,
    encoding: str | None = None,
) -> HttpRequest:
    data = body.encode() if isinstance(body, str) else body
    headers = [("Content-Type", content_type)]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    return HttpRequest(method, "/", query, Headers(headers), BytesBody(data))


def sqs_json(
    body: bytes | str, target: str = "AmazonSQS.SendMessage", content_type: str = JSON10
) -> HttpRequest:
    data = body.encode() if isinstance(body, str) else body
    headers = [("Content-Type", content_type), ("X-Amz-Target", target)]
    return HttpRequest("POST", "/", "", Headers(headers), BytesBody(data))


def error_of(codec: Any, request: HttpRequest) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        run(codec.decode(request))
    return raised.value


# --- query ----------------------------------------------------------------------------------------


def test_missing_and_unknown_action() -> None:
    assert error_of(STS, form("Version=2011-06-15")).code == "MissingAction"
    error = error_of(STS, form("Action=Nope&Version=2011-06-15"))
    assert (error.code, error.status) == ("InvalidAction", 400)
    assert "Nope" in error.message


def test_get_with_query_string_decodes() -> None:
    request = HttpRequest("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", Headers(), BytesBody())
    assert run(STS.decode(request)).operation == "GetCallerIdentity"


def test_gzip_form_body_decodes() -> None:
    body = gzip.compress(b"Action=GetCallerIdentity&Version=2011-06-15")
    assert run(STS.decode(form(body, encoding="gzip"))).operation == "GetCallerIdentity"


def test_corrupt_gzip_and_unknown_encoding() -> None:
    assert error_of(STS, form(b"not gzip", encoding="gzip")).code == "MalformedQueryString"
    assert error_of(STS, form(b"Action=x", encoding="br")).code == "MalformedQueryString"


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"A" * (MAX_DOCUMENT_BODY + 1))
    assert error_of(STS, form(bomb, encoding="gzip")).status == 413


def test_coral_services_report_missing_members_as_validation_error() -> None:
    error = error_of(STS, form("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:x"))
    assert error.code == "ValidationError"
    assert error.message == (
        "1 validation error detected: Value null at 'roleSessionName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_classic_services_report_missing_parameter() -> None:
    error = error_of(SQS_QUERY, form("Action=SendMessage&QueueUrl=http://q"))
    assert (error.code, error.message) == (
        "MissingParameter",
        "The request must contain the parameter MessageBody.",
    )


@pytest.mark.parametrize(
    "body",
    [
        "Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=ten",
        "Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=99999999999999999999999",
        "Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=2147483648",
        "Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=" + "9" * 5000,
        "Action=ReceiveMessage&QueueUrl=q&AttributeName.x=All",
        "Action=ReceiveMessage&QueueUrl=q&AttributeName.1.Deep=All",
        "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Value.DataType=String",
        "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value.BinaryValue=%%%",
        "Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value=x",
    ],
)
def test_unparsable_values_are_invalid_parameter_value(body: str) -> None:
    assert error_of(SQS_QUERY, form(body)).code == "InvalidParameterValue"


def test_duplicate_and_malformed_parameters() -> None:
    assert (
        error_of(SQS_QUERY, form("Action=DeleteQueue&QueueUrl=a&QueueUrl=b")).code == "MalformedQueryString"
    )
    assert error_of(SQS_QUERY, form(b"Action=DeleteQueue&QueueUrl=\xff\xfe")).code == "MalformedQueryString"
    assert error_of(SQS_QUERY, form("Action=DeleteQueue&QueueUrl=%ff%fe")).code == "MalformedQueryString"
    too_many = "&".join(f"p{i}=1" for i in range(10_001))
    assert error_of(SQS_QUERY, form(too_many)).code == "MalformedQueryString"


def test_form_with_other_content_type_reads_only_the_query_string() -> None:
    request = form("Action=ListQueues", content_type="text/plain")
    assert error_of(SQS_QUERY, request).code == "MissingAction"


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_query_arbitrary_bodies_never_crash(body: bytes) -> None:
    for codec in (SNS, SQS_QUERY):
        try:
            run(codec.decode(form(b"Action=Publish&" + body)))
        except ServiceError as error:
            assert error.status in (400, 413)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "Action",
                    "QueueUrl",
                    "Attribute",
                    "Tag",
                    "MessageAttribute",
                    "Entries",
                    "1",
                    "2",
                    "Name",
                    "Value",
                    "member",
                    "entry",
                    "x",
                ]
            ),
            st.text(max_size=4),
        ).map(lambda pairs: pairs),
        max_size=12,
    ),
    st.sampled_from(["CreateQueue", "SendMessageBatch", "ReceiveMessage", "TagQueue", "SetQueueAttributes"]),
)
def test_query_structured_garbage_never_crashes(pairs: list[tuple[str, str]], action: str) -> None:
    from urllib.parse import quote

    body = "&".join(f"{quote(name)}={quote(value)}" for name, value in pairs)
    body = f"Action={action}&" + body.replace("Action=", "X=")
    try:
        run(SQS_QUERY.decode(form(body.replace("%2E", "."))))
    except ServiceError as error:
        assert error.status == 400


# --- json -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (sqs_json("{"), "SerializationException"),
        (sqs_json("[1, 2]"), "SerializationException"),
        (sqs_json(b'{"QueueUrl": "\xff"}'), "SerializationException"),
        (sqs_json('{"QueueUrl": 12, "MessageBody": "b"}'), "SerializationException"),
        (sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": "5"}'), "SerializationException"),
        (sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": 5.5}'), "SerializationException"),
        (sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": 1e400}'), "SerializationException"),
        (
            sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": 99999999999999999999}'),
            "SerializationException",
        ),
        (
            sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": ' + "9" * 5000 + "}"),
            "SerializationException",
        ),
        (
            sqs_json('{"QueueUrl": "q", "MessageBody": "b", "MessageAttributes": []}'),
            "SerializationException",
        ),
        (
            sqs_json(
                '{"QueueUrl": "q", "MessageBody": "b", "MessageAttributes": {"a": {"DataType": "Binary", '
                '"BinaryValue": "!!"}}}'
            ),
            "SerializationException",
        ),
        (sqs_json("[" * 100_000), "SerializationException"),
        (sqs_json('{"QueueUrl": "q"}'), "ValidationException"),
        (sqs_json("{}", target="AmazonSQS.Nope"), "UnknownOperationException"),
        (sqs_json("{}", target=""), "UnknownOperationException"),
        (sqs_json("{}", content_type="application/json"), "UnknownOperationException"),
    ],
)
def test_json_bad_input(request_: HttpRequest, code: str) -> None:
    assert error_of(SQS_JSON, request_).code == code


def test_json_missing_members_message_names_them_like_aws() -> None:
    error = error_of(SQS_JSON, sqs_json('{"QueueUrl": "q"}'))
    assert error.message == (
        "1 validation error detected: Value null at 'messageBody' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_json_nulls_are_absent_members() -> None:
    decoded = run(SQS_JSON.decode(sqs_json('{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": null}')))
    assert decoded.params == {"QueueUrl": "q", "MessageBody": "b"}


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "QueueUrl",
                        "MessageBody",
                        "DelaySeconds",
                        "MessageAttributes",
                        "DataType",
                        "StringValue",
                        "BinaryValue",
                        "Entries",
                        "Id",
                        "a",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    ),
    st.sampled_from(["SendMessage", "SendMessageBatch", "CreateQueue", "ReceiveMessage"]),
)
def test_json_arbitrary_documents_never_crash(document: Any, operation: str) -> None:
    import json

    try:
        run(SQS_JSON.decode(sqs_json(json.dumps(document), target=f"AmazonSQS.{operation}")))
    except ServiceError as error:
        assert error.status == 400
