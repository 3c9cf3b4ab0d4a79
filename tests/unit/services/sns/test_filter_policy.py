"""Filter policies: a reference table of (policy, message, match?) and properties that must hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.services.sns.filter_policy import (
    SCOPE_ATTRIBUTES,
    SCOPE_BODY,
    FilterPolicyError,
    compile_policy,
)


def _attrs(**values: Any) -> dict[str, dict[str, str]]:
    """Message attributes: str → String, int/float → Number, list → String.Array."""
    result = {}
    for name, value in values.items():
        if isinstance(value, list):
            result[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif isinstance(value, int | float):
            result[name] = {"DataType": "Number", "StringValue": str(value)}
        else:
            result[name] = {"DataType": "String", "StringValue": value}
    return result


#: (policy, message attributes, expected) — the behaviour the AWS guide documents for each operator.
ATTRIBUTE_TABLE: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"store": ["example_corp"]}, {"store": "example_corp"}, True),
    ({"store": ["example_corp"]}, {"store": "other"}, False),
    ({"store": ["example_corp"]}, {}, False),
    ({"store": ["a", "b"]}, {"store": "b"}, True),
    ({"price": [100]}, {"price": 100}, True),
    ({"price": [100]}, {"price": 100.0}, True),
    ({"price": [100]}, {"price": "100"}, False),
    ({"store": ["x"], "event": ["y"]}, {"store": "x", "event": "y"}, True),
    ({"store": ["x"], "event": ["y"]}, {"store": "x"}, False),
    ({"customer_interests": ["rugby"]}, {"customer_interests": ["soccer", "rugby"]}, True),
    ({"customer_interests": ["rugby"]}, {"customer_interests": ["soccer"]}, False),
    ({"event": [{"prefix": "order-"}]}, {"event": "order-cancelled"}, True),
    ({"event": [{"prefix": "order-"}]}, {"event": "refund"}, False),
    ({"image": [{"suffix": ".png"}]}, {"image": "cat.png"}, True),
    ({"image": [{"suffix": ".png"}]}, {"image": "cat.jpg"}, False),
    ({"name": [{"equals-ignore-case": "ALICE"}]}, {"name": "alice"}, True),
    ({"store": [{"anything-but": ["a", "b"]}]}, {"store": "c"}, True),
    ({"store": [{"anything-but": ["a", "b"]}]}, {"store": "a"}, False),
    ({"store": [{"anything-but": ["a"]}]}, {}, False),
    ({"store": [{"anything-but": "a"}]}, {"store": "b"}, True),
    ({"price": [{"anything-but": [100, 200]}]}, {"price": 150}, True),
    ({"price": [{"anything-but": [100, 200]}]}, {"price": 100}, False),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, {"event": "refund"}, True),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, {"event": "order-x"}, False),
    ({"event": [{"anything-but": {"suffix": "-x"}}]}, {"event": "a-x"}, False),
    ({"price": [{"numeric": ["=", 301.5]}]}, {"price": 301.5}, True),
    ({"price": [{"numeric": [">", 0]}]}, {"price": 0}, False),
    ({"price": [{"numeric": [">=", 0]}]}, {"price": 0}, True),
    ({"price": [{"numeric": ["<", 0]}]}, {"price": -1}, True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": 150}, True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": 151}, False),
    ({"price": [{"numeric": [">", 0, "<", 150]}]}, {"price": "100"}, False),
    ({"store": [{"exists": True}]}, {"store": "anything"}, True),
    ({"store": [{"exists": True}]}, {}, False),
    ({"store": [{"exists": False}]}, {}, True),
    ({"store": [{"exists": False}]}, {"store": "x"}, False),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.0.255"}, True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.1.0"}, False),
    ({"source_ip": [{"cidr": "2001:db8::/32"}]}, {"source_ip": "2001:db8::1"}, True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "not-an-ip"}, False),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, True),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"a": "2"}, False),
    ({"c": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"c": "x", "a": "1"}, True),
    ({"c": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"a": "1"}, False),
    ({}, {}, True),
]

#: (policy, JSON body, expected) for the MessageBody scope.
BODY_TABLE: list[tuple[dict[str, Any], Any, bool]] = [
    ({"order": {"kind": ["book"]}}, {"order": {"kind": "book"}}, True),
    ({"order": {"kind": ["book"]}}, {"order": {"kind": "film"}}, False),
    ({"order": {"kind": ["book"]}}, {"kind": "book"}, False),
    ({"items": {"sku": ["a"]}}, {"items": [{"sku": "b"}, {"sku": "a"}]}, True),
    ({"tags": ["x"]}, {"tags": ["y", "x"]}, True),
    ({"paid": [True]}, {"paid": True}, True),
    ({"paid": [True]}, {"paid": "true"}, False),
    ({"note": [None]}, {"note": None}, True),
    ({"total": [{"numeric": [">=", 10]}]}, {"total": 12.5}, True),
    ({"order": {"id": [{"exists": False}]}}, {"order": {}}, True),
    ({"order": {"id": [{"exists": True}]}}, {"order": {"id": 1}}, True),
    ({"order": [{"exists": True}]}, {"order": {"id": 1}}, False),
    ({"$or": [{"a": {"b": ["1"]}}, {"c": ["2"]}]}, {"c": "2"}, True),
    ({"a": ["1"]}, "not an object", False),
]


@pytest.mark.parametrize(("policy", "values", "expected"), ATTRIBUTE_TABLE)
def test_attribute_scope_reference(policy: dict[str, Any], values: dict[str, Any], expected: bool) -> None:
    compiled = compile_policy(json.dumps(policy), SCOPE_ATTRIBUTES)
    assert compiled.matches_attributes(_attrs(**values)) is expected


@pytest.mark.parametrize(("policy", "body", "expected"), BODY_TABLE)
def test_body_scope_reference(policy: dict[str, Any], body: Any, expected: bool) -> None:
    compiled = compile_policy(json.dumps(policy), SCOPE_BODY)
    assert compiled.matches_body(json.dumps(body) if not isinstance(body, str) else body) is expected


def test_body_that_is_not_json_never_matches() -> None:
    assert not compile_policy('{"a": ["b"]}', SCOPE_BODY).matches_body("{broken")


def test_binary_attributes_count_as_absent() -> None:
    compiled = compile_policy('{"b": [{"exists": false}]}', SCOPE_ATTRIBUTES)
    assert compiled.matches_attributes({"b": {"DataType": "Binary", "BinaryValue": b"x"}})


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ("[]", "Filter policy must be a JSON object"),
        ('{"a": [{"numeric": []}]}', "Value of numeric must be an array."),
        ('{"a": [{"numeric": ["<", 1, ">", 0]}]}', "Bad numeric range operator: >"),
        ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top"),
        ('{"a": [{"numeric": [">", 1, "<", 2, "=", 3]}]}', "Too many elements in numeric expression"),
        ('{"a": [{"anything-but": []}]}', "Empty arrays are not allowed"),
        (
            '{"a": [{"anything-but": [true]}]}',
            "Value of anything-but must be an array or single string/number value.",
        ),
        ('{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression"),
        ('{"a": [{"cidr": "10.0.0.300/24"}]}', "Nonstandard IP address: 10.0.0.300"),
        ('{"$or": [{"a": ["1"]}]}', "Value of $or must be an array of at least 2 objects"),
    ],
)
def test_validation_reasons(policy: str, reason: str) -> None:
    with pytest.raises(FilterPolicyError) as caught:
        compile_policy(policy, SCOPE_BODY)
    assert str(caught.value) == reason


names = st.text(alphabet="abcdefghij", min_size=1, max_size=4)
strings = st.text(alphabet="abcxyz-", min_size=1, max_size=6)
numbers = st.integers(min_value=-1000, max_value=1000)
messages = st.dictionaries(names, st.one_of(strings, numbers), min_size=1, max_size=5)


@given(messages)
def test_a_policy_built_from_the_message_matches_it(values: dict[str, Any]) -> None:
    policy = {name: [value] for name, value in values.items()}
    assert compile_policy(json.dumps(policy), SCOPE_ATTRIBUTES).matches_attributes(_attrs(**values))
    assert compile_policy(json.dumps(policy), SCOPE_BODY).matches_body(json.dumps(values))


@given(messages)
def test_anything_but_the_value_never_matches(values: dict[str, Any]) -> None:
    name, value = next(iter(values.items()))
    policy = {name: [{"anything-but": [value]}]}
    assert not compile_policy(json.dumps(policy), SCOPE_ATTRIBUTES).matches_attributes(_attrs(**values))


@given(messages, messages, messages)
def test_or_is_the_union_of_its_branches(
    first: dict[str, Any], second: dict[str, Any], message: dict[str, Any]
) -> None:
    left = {name: [value] for name, value in first.items()}
    right = {name: [value] for name, value in second.items()}
    attributes = _attrs(**message)

    def matches(policy: dict[str, Any]) -> bool:
        return compile_policy(json.dumps(policy), SCOPE_ATTRIBUTES).matches_attributes(attributes)

    assert matches({"$or": [left, right]}) == (matches(left) or matches(right))


@given(names, numbers, numbers, numbers)
def test_numeric_ranges_agree_with_comparisons(name: str, low: int, high: int, value: int) -> None:
    if low >= high:
        return
    policy = {name: [{"numeric": [">=", low, "<", high]}]}
    compiled = compile_policy(json.dumps(policy), SCOPE_ATTRIBUTES)
    assert compiled.matches_attributes(_attrs(**{name: value})) == (low <= value < high)


@given(names, strings, strings)
def test_prefix_agrees_with_startswith(name: str, prefix: str, value: str) -> None:
    compiled = compile_policy(json.dumps({name: [{"prefix": prefix}]}), SCOPE_ATTRIBUTES)
    assert compiled.matches_attributes(_attrs(**{name: value})) == value.startswith(prefix)
