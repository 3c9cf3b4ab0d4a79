"""SQS on both wires: the query overlay's parameter and element names, and the legacy error codes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import botocore.model
import botocore.parsers
import botocore.serialize
import pytest

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec

QUERY = QueryCodec(sqs_query_model())
JSON = JsonCodec(sqs_json_model())
# botocore's view of the same overlaid documents: the SDK side of each round trip.
QUERY_MODEL = botocore.model.ServiceModel(sqs_query_model().document, service_name="sqs")
JSON_MODEL = botocore.model.ServiceModel(sqs_json_model().document, service_name="sqs")


def run(coroutine: Any) -> Any:
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


def _serialize(operation: str, params: dict[str, Any]) -> dict[str, str]:
    serializer = botocore.serialize.create_serializer("query")
    body: dict[str, str] = serializer.serialize_to_request(params, QUERY_MODEL.operation_model(operation))[
        "body"
    ]
    return body


def test_send_message_parameters_match_the_query_api_reference() -> None:
    body = _serialize(
        "SendMessage",
        {
            "QueueUrl": "http://localhost:4566/000000000000/q",
            "MessageBody": "hi",
            "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"}},
        },
    )
    assert body == {
        "Action": "SendMessage",
        "Version": "2012-11-05",
        "QueueUrl": "http://localhost:4566/000000000000/q",
        "MessageBody": "hi",
        "MessageAttribute.1.Name": "color",
        "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "red",
    }


def test_create_queue_and_batch_parameters_match_the_query_api_reference() -> None:
    create = _serialize(
        "CreateQueue", {"QueueName": "q", "Attributes": {"DelaySeconds": "5"}, "tags": {"k": "v"}}
    )
    assert create["Attribute.1.Name"] == "DelaySeconds"
    assert create["Attribute.1.Value"] == "5"
    assert (create["Tag.1.Key"], create["Tag.1.Value"]) == ("k", "v")
    batch = _serialize("SendMessageBatch", {"QueueUrl": "q", "Entries": [{"Id": "a", "MessageBody": "b"}]})
    assert batch["SendMessageBatchRequestEntry.1.Id"] == "a"
    receive = _serialize("ReceiveMessage", {"QueueUrl": "q", "AttributeNames": ["All"]})
    assert receive["AttributeName.1"] == "All"


def test_old_sdk_request_decodes() -> None:
    body = urlencode(
        {
            "Action": "SendMessage",
            "Version": "2012-11-05",
            "QueueUrl": "http://h/1/q",
            "MessageBody": "x",
            "MessageAttribute.1.Name": "n",
            "MessageAttribute.1.Value.DataType": "Binary",
            "MessageAttribute.1.Value.BinaryValue": "AAE=",
            "MessageAttribute.2.Name": "l",
            "MessageAttribute.2.Value.DataType": "String",
            "MessageAttribute.2.Value.StringListValue.1": "a",
        }
    )
    request = HttpRequest(
        "POST",
        "/",
        "",
        Headers([("content-type", "application/x-www-form-urlencoded")]),
        BytesBody(body.encode()),
    )
    decoded = run(QUERY.decode(request))
    assert decoded.params["MessageAttributes"] == {
        "n": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "l": {"DataType": "String", "StringListValues": ["a"]},
    }


def test_receive_message_response_uses_flattened_elements() -> None:
    output = {
        "Messages": [
            {
                "MessageId": "m",
                "Body": "b",
                "Attributes": {"SenderId": "s"},
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            }
        ]
    }
    response = QUERY.encode("ReceiveMessage", output, "rid")
    assert isinstance(response.body, bytes)
    text = response.body.decode()
    assert text.startswith(
        '<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
        "<ReceiveMessageResult><Message>"
    )
    assert "<Attribute><Name>SenderId</Name><Value>s</Value></Attribute>" in text
    assert "<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue>" in text
    assert text.endswith(
        "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
    )
    parsed = botocore.parsers.QueryParser().parse(
        {"body": response.body, "headers": {}, "status_code": 200},
        QUERY_MODEL.operation_model("ReceiveMessage").output_shape,
    )
    assert parsed["Messages"] == output["Messages"]


def test_query_errors_carry_the_legacy_code_and_status() -> None:
    response = QUERY.encode_error(
        ServiceError("QueueDoesNotExist", "The specified queue does not exist."), "rid"
    )
    assert response.status == 400
    assert response.body == (
        b'<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type>'
        b"<Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist."
        b"</Message></Error><RequestId>rid</RequestId></ErrorResponse>"
    )
    assert QUERY.encode_error(ServiceError("ReceiptHandleIsInvalid"), "rid").status == 404
    assert QUERY.encode_error(ServiceError("OverLimit"), "rid").status == 403
    explicit = QUERY.encode_error(
        ServiceError("InternalError", "boom", status=500, sender_fault=False), "rid"
    )
    assert explicit.status == 500
    assert b"<Type>Receiver</Type><Code>InternalError</Code>" in explicit.body  # type: ignore[operator]


@pytest.mark.parametrize(
    ("shape", "legacy", "status"),
    [
        ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400),
        ("QueueNameExists", "QueueAlreadyExists", 400),
        ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403),
        ("InvalidAttributeName", "InvalidAttributeName", 400),
    ],
)
def test_json_errors_raise_the_modelled_exception_with_the_legacy_code(
    shape: str, legacy: str, status: int
) -> None:
    """What boto3 does with our answer: the modelled exception class, ``Error.Code`` the legacy code."""
    import boto3

    response = JSON.encode_error(ServiceError(shape, "msg"), "rid", "GetQueueUrl")
    assert response.status == status
    assert response.header("x-amzn-query-error") == f"{legacy};Sender"
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    headers = dict(response.headers)
    parsed = botocore.parsers.JSONParser().parse(
        {"body": response.body, "headers": headers, "status_code": response.status},
        JSON_MODEL.operation_model("GetQueueUrl").output_shape,
    )
    assert parsed["Error"]["Code"] == legacy
    assert parsed["Error"]["QueryErrorCode"] == shape
    assert parsed["Error"]["Message"] == "msg"
    exception = client.exceptions.from_code(parsed["Error"]["QueryErrorCode"])
    assert exception is getattr(client.exceptions, shape)


def test_json_unmodelled_errors_pass_through() -> None:
    response = JSON.encode_error(ServiceError("InvalidParameterValue", "bad"), "rid")
    assert response.status == 400
    assert response.body == b'{"__type":"InvalidParameterValue","message":"bad"}'
    assert response.header("x-amzn-query-error") == "InvalidParameterValue;Sender"
    framework = JSON.encode_error(ServiceError("UnknownOperationException"), "rid")
    assert framework.body == b'{"__type":"com.amazon.coral.service#UnknownOperationException"}'


def test_json_send_message_round_trip_through_the_sdk_serializer() -> None:
    serializer = botocore.serialize.create_serializer("json")
    op = JSON_MODEL.operation_model("SendMessage")
    serialized = serializer.serialize_to_request({"QueueUrl": "q", "MessageBody": "b"}, op)
    request = HttpRequest(
        "POST", "/", "", Headers(serialized["headers"].items()), BytesBody(serialized["body"])
    )
    assert serialized["headers"]["x-amzn-query-mode"] == "true"
    decoded = run(JSON.decode(request))
    assert (decoded.operation, decoded.params) == ("SendMessage", {"QueueUrl": "q", "MessageBody": "b"})
    response = JSON.encode("SendMessage", {"MessageId": "m", "MD5OfMessageBody": "x"}, "rid")
    assert response.body == b'{"MessageId":"m","MD5OfMessageBody":"x"}'
    assert response.header("content-type") == "application/x-amz-json-1.0"
