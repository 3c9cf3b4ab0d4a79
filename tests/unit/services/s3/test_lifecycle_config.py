"""Lifecycle configuration validation: the stored form and S3's answers to invalid rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kumoi.core.errors import ServiceError
from kumoi.services.s3.lifecycle_config import MAX_RULES, validate


def _one(**members: Any) -> dict[str, Any]:
    return {"Status": "Enabled", "Filter": {}, **members}


def test_dates_are_stored_as_epoch_and_ids_generated() -> None:
    midnight = datetime(2030, 1, 1, tzinfo=UTC)
    stored = validate([_one(Expiration={"Date": midnight})])
    assert stored[0]["Expiration"]["Date"] == midnight.timestamp()
    assert stored[0]["ID"]


def test_rule_count_limit() -> None:
    rules = [_one(ID=str(n), Expiration={"Days": 1}) for n in range(MAX_RULES)]
    assert len(validate(rules)) == MAX_RULES
    with pytest.raises(ServiceError) as excinfo:
        validate([*rules, _one(ID="extra", Expiration={"Days": 1})])
    assert excinfo.value.code == "MalformedXML"


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (_one(Expiration={"Days": -1}), "InvalidArgument"),
        (_one(Transitions=[{"Days": -1, "StorageClass": "GLACIER"}]), "InvalidArgument"),
        (_one(Transitions=[{"Days": 1, "StorageClass": "STANDARD"}]), "MalformedXML"),
        (
            _one(
                Transitions=[
                    {"Days": 1, "StorageClass": "GLACIER"},
                    {"Date": datetime(2030, 1, 1, tzinfo=UTC), "StorageClass": "DEEP_ARCHIVE"},
                ]
            ),
            "InvalidRequest",
        ),
        (
            _one(NoncurrentVersionTransitions=[{"NoncurrentDays": 5, "StorageClass": "STANDARD_IA"}]),
            "InvalidArgument",
        ),
        (
            _one(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 101}),
            "InvalidArgument",
        ),
        ({"Status": "Maybe", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML"),
        (
            _one(
                Filter={"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}},
                Expiration={"Days": 1},
            ),
            "InvalidRequest",
        ),
    ],
)
def test_invalid(rule: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as excinfo:
        validate([rule])
    assert excinfo.value.code == code
    assert excinfo.value.status == 400


def test_glacier_transitions_may_be_immediate() -> None:
    stored = validate(
        [
            _one(
                Transitions=[
                    {"Days": 0, "StorageClass": "GLACIER"},
                    {"Days": 30, "StorageClass": "STANDARD_IA"},
                ]
            )
        ]
    )
    assert len(stored[0]["Transitions"]) == 2
