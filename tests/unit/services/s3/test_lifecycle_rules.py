"""Lifecycle evaluation: AWS's rounding to midnight UTC, filters, and which action wins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kumoi.services.s3.lifecycle_rules import (
    DAY,
    SMALL_OBJECT,
    VARIES_BY_CLASS,
    Action,
    ObjectFacts,
    abort_due,
    due,
    due_action,
    expiration_header,
    matches,
    noncurrent_transition,
    scan_prefixes,
)

JAN_15_1030 = datetime(2026, 1, 15, 10, 30, tzinfo=UTC).timestamp()
BIG = SMALL_OBJECT


def _rule(**members: Any) -> dict[str, Any]:
    return {"ID": members.pop("ID", "r"), "Status": members.pop("Status", "Enabled"), **members}


def test_due_rounds_up_to_the_next_midnight_utc() -> None:
    # AWS's example: an object created 1/15 10:30 UTC with Days=3 expires 1/19 00:00 UTC.
    assert due(JAN_15_1030, 3) == datetime(2026, 1, 19, tzinfo=UTC).timestamp()
    midnight = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
    assert due(midnight, 1) == midnight + DAY
    assert due(JAN_15_1030, 0) == datetime(2026, 1, 16, tzinfo=UTC).timestamp()


@given(
    st.integers(min_value=0, max_value=4 * 10**12).map(lambda ms: ms / 1000),
    st.integers(min_value=0, max_value=5000),
)
def test_due_is_the_first_midnight_not_before_created_plus_days(created: float, days: int) -> None:
    when = due(created, days)
    assert when % DAY == 0
    assert created + days * DAY <= when < created + days * DAY + DAY


def test_filters() -> None:
    tagged = _rule(
        Filter={"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeLessThan": 10}}
    )
    assert matches(tagged, "a/x", 5, {"k": "v", "other": "1"})
    assert not matches(tagged, "a/x", 10, {"k": "v"})
    assert not matches(tagged, "b/x", 5, {"k": "v"})
    assert not matches(tagged, "a/x", 5, {"k": "w"})
    assert not matches(tagged, "a/x", 5, None)
    assert matches(_rule(Prefix="legacy/"), "legacy/x", 0, None)
    assert matches(_rule(Filter={}), "anything", 0, None)
    assert matches(_rule(Filter={"ObjectSizeGreaterThan": 3}), "k", 4, None)
    assert not matches(_rule(Filter={"ObjectSizeGreaterThan": 3}), "k", 3, None)


def test_expiration_wins_over_transition_and_the_coldest_transition_wins() -> None:
    rules = [
        _rule(
            ID="t",
            Filter={},
            Transitions=[{"Days": 1, "StorageClass": "STANDARD_IA"}, {"Days": 2, "StorageClass": "GLACIER"}],
        ),
        _rule(ID="e", Filter={"Prefix": "tmp/"}, Expiration={"Days": 2}),
    ]
    facts = ObjectFacts("k", BIG, JAN_15_1030)
    assert due_action(rules, facts, due(JAN_15_1030, 1)) == Action("transition", "t", "STANDARD_IA")
    assert due_action(rules, facts, due(JAN_15_1030, 2)) == Action("transition", "t", "GLACIER")
    assert due_action(rules, ObjectFacts("tmp/k", BIG, JAN_15_1030), due(JAN_15_1030, 2)) == Action(
        "expire", "e"
    )
    assert due_action(rules, facts, due(JAN_15_1030, 1) - 1) is None
    glacier = ObjectFacts("k", BIG, JAN_15_1030, "GLACIER")
    assert due_action(rules, glacier, due(JAN_15_1030, 5)) is None


def test_small_objects_and_disabled_rules() -> None:
    rules = [_rule(ID="g", Filter={}, Transitions=[{"Days": 0, "StorageClass": "GLACIER"}])]
    small = ObjectFacts("k", 10, JAN_15_1030)
    later = due(JAN_15_1030, 1)
    assert due_action(rules, small, later) is None
    assert due_action(rules, small, later, VARIES_BY_CLASS) == Action("transition", "g", "GLACIER")
    sized = [
        _rule(
            ID="s",
            Filter={"ObjectSizeGreaterThan": 1},
            Transitions=[{"Days": 0, "StorageClass": "STANDARD_IA"}],
        )
    ]
    assert due_action(sized, small, later) == Action("transition", "s", "STANDARD_IA")
    assert due_action([{**rules[0], "Status": "Disabled"}], ObjectFacts("k", BIG, JAN_15_1030), later) is None


def test_dates_and_the_expiration_header() -> None:
    date = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    rules = [
        _rule(ID="by date", Filter={}, Expiration={"Date": date}),
        _rule(ID="sooner", Filter={"Prefix": "s"}, Expiration={"Days": 1}),
    ]
    facts = ObjectFacts("k", 1, JAN_15_1030)
    assert (
        expiration_header(rules, facts) == 'expiry-date="Sun, 01 Mar 2026 00:00:00 GMT", rule-id="by%20date"'
    )
    assert expiration_header(rules, ObjectFacts("s", 1, JAN_15_1030)) == (
        'expiry-date="Sat, 17 Jan 2026 00:00:00 GMT", rule-id="sooner"'
    )
    assert due_action(rules, facts, date) == Action("expire", "by date")


def test_abort_and_scan_prefixes() -> None:
    rules = [
        _rule(ID="a", Filter={"Prefix": "up/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),
        _rule(ID="b", Filter={"Prefix": "up/deeper/"}, Expiration={"Days": 1}),
        _rule(ID="c", Filter={"Prefix": "zz"}, Expiration={"Days": 1}, Status="Disabled"),
    ]
    assert abort_due(rules, "up/x", JAN_15_1030, due(JAN_15_1030, 2))
    assert not abort_due(rules, "up/x", JAN_15_1030, due(JAN_15_1030, 2) - 1)
    assert not abort_due(rules, "other", JAN_15_1030, due(JAN_15_1030, 9))
    assert scan_prefixes(rules) == ["up/"]
    assert scan_prefixes([*rules, _rule(Filter={}, Expiration={"Days": 1})]) == [""]


def test_noncurrent_transitions_keep_the_newest_and_go_colder() -> None:
    rules = [
        _rule(
            ID="n",
            Filter={},
            NoncurrentVersionTransitions=[
                {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA", "NewerNoncurrentVersions": 1},
                {"NoncurrentDays": 40, "StorageClass": "ONEZONE_IA"},
                {"NoncurrentDays": 50, "StorageClass": "GLACIER"},
            ],
        )
    ]
    newer: dict[str, int] = {}
    at_35 = due(JAN_15_1030, 35)
    # The newest noncurrent version is kept by NewerNoncurrentVersions, the next one moves.
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "STANDARD", at_35, newer) is None
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "STANDARD", at_35, newer) == "STANDARD_IA"
    at_45 = due(JAN_15_1030, 45)
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "STANDARD", at_45, {}) == "ONEZONE_IA"
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "ONEZONE_IA", at_45, {}) is None
    at_60 = due(JAN_15_1030, 60)
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "ONEZONE_IA", at_60, {}) == "GLACIER"
    assert noncurrent_transition(rules, "k", 1, JAN_15_1030, "GLACIER", at_60, {}) is None
