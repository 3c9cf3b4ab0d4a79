"""The compiled JSON decoders' shortcuts: a structure of plain strings is taken as sent, and a
list's member paths are built only for the error that needs one.

Both must leave every outcome as the member-by-member walk gives it: the values, and for bad
input the error, its member path included.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays import sqs_json_model

SQS = JsonCodec(sqs_json_model())


def decode(operation: str, document: Any) -> dict[str, Any]:
    body = json.dumps(document).encode()
    headers = Headers(
        [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", f"AmazonSQS.{operation}")]
    )
    request = HttpRequest("POST", "/", "", headers, BytesBody(body))
    params: dict[str, Any] = asyncio.run(SQS.decode(request)).params
    return params


def error(operation: str, document: Any) -> tuple[str, str]:
    with pytest.raises(ServiceError) as caught:
        decode(operation, document)
    return caught.value.code, caught.value.message


def test_plain_entries_are_taken_as_sent() -> None:
    entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
    assert decode("SendMessageBatch", {"QueueUrl": "q", "Entries": entries}) == {
        "QueueUrl": "q",
        "Entries": entries,
    }


def test_unknown_members_and_nulls_are_still_left_out() -> None:
    document = {
        "QueueUrl": "q",
        "Entries": [{"Id": "a", "MessageBody": "b", "Other": "x", "DelaySeconds": None}],
    }
    assert decode("SendMessageBatch", document)["Entries"] == [{"Id": "a", "MessageBody": "b"}]


def test_other_members_are_converted() -> None:
    entry = {"Id": "a", "MessageBody": "b", "DelaySeconds": 5}
    assert decode("SendMessageBatch", {"QueueUrl": "q", "Entries": [entry]})["Entries"] == [entry]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [{"Id": "a", "MessageBody": "b"}, {"Id": "c", "MessageBody": "d"}, {"Id": 5, "MessageBody": "e"}],
            ("SerializationException", "NUMBER_VALUE can not be converted to a String at 'Entries.3.Id'"),
        ),
        (
            [{"Id": "a", "MessageBody": "b"}, None],
            ("SerializationException", "null can not be a list member at 'Entries.2'"),
        ),
        (
            [{"Id": "a", "MessageBody": "b"}, "entry"],
            ("SerializationException", "STRING_VALUE can not be converted to a structure at 'Entries.2'"),
        ),
        (
            [{"Id": "a", "MessageBody": "b"}, {"Id": "x", "MessageBody": "d", "DelaySeconds": "1"}],
            (
                "SerializationException",
                "STRING_VALUE can not be converted to an Integer at 'Entries.2.DelaySeconds'",
            ),
        ),
        (
            [{"Id": "a", "MessageBody": "b"}, {"MessageBody": "d"}],
            (
                "ValidationException",
                "1 validation error detected: Value null at 'Entries.2.id' failed to satisfy "
                "constraint: Member must not be null",
            ),
        ),
        (
            [
                {
                    "Id": "a",
                    "MessageBody": "b",
                    "MessageAttributes": {"n": {"DataType": "Binary", "BinaryValue": "!"}},
                }
            ],
            ("SerializationException", "invalid base64 text at 'Entries.1.MessageAttributes.n.BinaryValue'"),
        ),
    ],
)
def test_errors_name_the_member_that_is_wrong(entries: list[Any], expected: tuple[str, str]) -> None:
    assert error("SendMessageBatch", {"QueueUrl": "q", "Entries": entries}) == expected


_VALUES: st.SearchStrategy[Any] = (
    st.none() | st.text(max_size=3) | st.integers(-2, 2) | st.booleans() | st.just({}) | st.just([])
)
_ENTRY = st.dictionaries(
    st.sampled_from(["Id", "MessageBody", "DelaySeconds", "MessageGroupId", "ReceiptHandle", "Other"]),
    _VALUES,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ENTRY | st.none() | st.text(max_size=2), max_size=5))
def test_the_first_bad_entry_is_the_one_reported(entries: list[Any]) -> None:
    """Decoding the entries one at a time, the first that fails is the one the batch reports."""
    document = {"QueueUrl": "q", "Entries": entries}
    first_error = None
    for index, entry in enumerate(entries, start=1):
        if entry is None:
            first_error = ("SerializationException", f"null can not be a list member at 'Entries.{index}'")
            break
        try:
            decode("SendMessageBatch", {"QueueUrl": "q", "Entries": [entry]})
        except ServiceError as failure:
            message = failure.message.replace("Entries.1", f"Entries.{index}")
            first_error = (failure.code, message)
            break
    if first_error is None:
        assert len(decode("SendMessageBatch", document)["Entries"]) == len(entries)
    else:
        assert error("SendMessageBatch", document) == first_error
