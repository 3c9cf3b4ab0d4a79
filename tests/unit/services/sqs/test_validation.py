"""Pure validation rules: receipt handles, queue attributes, redrive policies."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.services.sqs import attributes
from kumoi.services.sqs.messages import check_attempt_id
from kumoi.services.sqs.receipts import STALE, parse_receipt, receipt_handle


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_receipt_round_trip(sequence: int) -> None:
    assert parse_receipt(receipt_handle(sequence, "A" * 32)) == (sequence, "A" * 32)


def test_handles_naming_a_message_id_are_stale() -> None:
    """The handles earlier versions issued parse as naming no stored message."""
    legacy = base64.urlsafe_b64encode(b"0b6e3f0c-1b2a-4c3d-8e9f-0123456789ab:" + b"A" * 32).decode()
    assert parse_receipt(legacy) == (STALE, "A" * 32)


@given(st.text(max_size=300))
def test_hostile_receipts_are_refused_cleanly(handle: str) -> None:
    with pytest.raises(ServiceError) as caught:
        parse_receipt(handle)
    assert caught.value.code == "ReceiptHandleIsInvalid"


def test_attribute_normalization() -> None:
    assert attributes.validate(
        {"SqsManagedSseEnabled": "TRUE", "DelaySeconds": "07"}, fifo=False, creating=True
    ) == {"SqsManagedSseEnabled": "true", "DelaySeconds": "7"}
    with pytest.raises(ServiceError, match="InvalidAttributeName"):
        attributes.validate({"DeduplicationScope": "queue"}, fifo=False, creating=True)
    with pytest.raises(ServiceError, match="InvalidAttributeValue"):
        attributes.validate(
            {"DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"},
            fifo=True,
            creating=True,
        )


def test_redrive_policy_parsing() -> None:
    policy = attributes.parse_redrive(
        '{"deadLetterTargetArn": "arn:aws:sqs:r:000000000000:d", "maxReceiveCount": "5"}'
    )
    assert policy.max_receive_count == 5
    for bad in (
        "[]",
        '{"deadLetterTargetArn": "a"}',
        '{"deadLetterTargetArn": "a", "maxReceiveCount": 1001}',
    ):
        with pytest.raises(ServiceError, match="InvalidParameterValue"):
            attributes.parse_redrive(bad)


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_ATTEMPT_ALPHABET = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + _PUNCTUATION
)


@given(st.text(_ATTEMPT_ALPHABET, min_size=1, max_size=128))
def test_attempt_ids_of_allowed_characters_pass(attempt_id: str) -> None:
    check_attempt_id(attempt_id)


@given(st.text(max_size=200))
@example("attempt\n")
def test_other_attempt_ids_are_refused(attempt_id: str) -> None:
    allowed = 1 <= len(attempt_id) <= 128 and all(
        c.isascii() and (c.isalnum() or c in _PUNCTUATION) for c in attempt_id
    )
    if allowed:
        check_attempt_id(attempt_id)
        return
    with pytest.raises(ServiceError) as caught:
        check_attempt_id(attempt_id)
    assert caught.value.code == "InvalidParameterValue"
    assert "ReceiveRequestAttemptId" in caught.value.message
