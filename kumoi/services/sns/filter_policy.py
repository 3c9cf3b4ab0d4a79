"""Subscription filter policies: the AWS matching language, validated and compiled once.

A policy is a JSON object. Each key names a message attribute (``MessageAttributes`` scope) or a
property of the JSON message body (``MessageBody`` scope, where objects nest); its value lists
conditions, any of which may match (OR). All keys must match (AND). ``"$or": [p, q, ...]`` at any
level offers alternatives. Conditions: exact strings, numbers, booleans and null; ``prefix``,
``suffix``, ``equals-ignore-case``, ``anything-but`` (a value, a list, or a ``prefix``/``suffix``),
``numeric`` comparisons and ranges, ``exists``, and ``cidr`` IP address ranges.

:func:`compile_policy` turns the text into a :class:`FilterPolicy`: a list of alternatives,
each mapping a key path to its conditions, so matching a message is a few dictionary look-ups.
Errors carry AWS's reason text (``Invalid parameter: FilterPolicy: <reason>``).
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCOPE_ATTRIBUTES = "MessageAttributes"
SCOPE_BODY = "MessageBody"
SCOPES = (SCOPE_ATTRIBUTES, SCOPE_BODY)
#: Most keys (leaf properties) in one alternative of a policy.
MAX_KEYS = 5
#: Most combinations of values a policy may describe (AWS's complexity limit).
MAX_COMBINATIONS = 150
#: Largest filter policy document, in bytes.
MAX_POLICY_BYTES = 256 * 1024
#: Numeric conditions are limited to this magnitude, as in AWS.
MAX_NUMBER = 1_000_000_000.0

Value = str | float | bool | None
Path = tuple[str, ...]


class FilterPolicyError(ValueError):
    """An invalid policy; ``str(error)`` is AWS's reason text."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Condition:
    """One condition of a key. ``test`` sees each value present at the key; ``exists`` is set
    for ``{"exists": ...}``, which looks at presence only."""

    test: Callable[[Value], bool]
    exists: bool | None = None


def _exact(expected: object) -> Callable[[Value], bool]:
    if _is_number(expected):
        number = float(expected)  # type: ignore[arg-type]
        return lambda v: _is_number(v) and float(v) == number  # type: ignore[arg-type]
    if isinstance(expected, bool) or expected is None:
        return lambda v: v is expected
    return lambda v: isinstance(v, str) and v == expected


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(spec: object) -> Callable[[Value], bool]:
    if not isinstance(spec, list) or not spec:
        raise FilterPolicyError("Value of numeric must be an array.")
    if len(spec) % 2 or len(spec) > 4:
        raise FilterPolicyError("Too many elements in numeric expression")
    checks: list[tuple[Callable[[float, float], bool], float]] = []
    for index in range(0, len(spec), 2):
        operator, operand = spec[index], spec[index + 1]
        if not isinstance(operator, str) or operator not in _OPERATORS:
            raise FilterPolicyError(f"Unrecognized numeric range operator: {operator}")
        if not _is_number(operand) or not math.isfinite(float(operand)) or abs(operand) > MAX_NUMBER:
            raise FilterPolicyError(f"Value of {operator} must be numeric")
        checks.append((_OPERATORS[operator], float(operand)))
    if len(checks) == 2:
        (first, low), (second, high) = (spec[0], spec[1]), (spec[2], spec[3])
        if first not in (">", ">=") or second not in ("<", "<="):
            raise FilterPolicyError("Bad numeric range operator: " + str(second))
        if float(low) >= float(high):
            raise FilterPolicyError("Bottom must be less than top")

    def test(value: Value) -> bool:
        if not _is_number(value):
            return False
        number = float(value)  # type: ignore[arg-type]
        return all(check(number, operand) for check, operand in checks)

    return test


def _string_operand(name: str, operand: object) -> str:
    if not isinstance(operand, str):
        raise FilterPolicyError(f"{name} match pattern must be a string")
    return operand


def _anything_but(spec: object) -> Callable[[Value], bool]:
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise FilterPolicyError("Value of anything-but must be an array or single string/number value.")
        ((name, operand),) = spec.items()
        if name == "prefix":
            text = _string_operand("prefix", operand)
            return lambda v: isinstance(v, str) and not v.startswith(text)
        if name == "suffix":
            text = _string_operand("suffix", operand)
            return lambda v: isinstance(v, str) and not v.endswith(text)
        raise FilterPolicyError(f"Unsupported anything-but pattern: {name}")
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        raise FilterPolicyError("Empty arrays are not allowed")
    for value in values:
        if not (isinstance(value, str) or _is_number(value)):
            raise FilterPolicyError("Value of anything-but must be an array or single string/number value.")
    excluded = [_exact(value) for value in values]
    return lambda v: v is not None and not any(match(v) for match in excluded)


def _cidr(spec: object) -> Callable[[Value], bool]:
    if not isinstance(spec, str):
        raise FilterPolicyError("cidr match pattern must be a string")
    if spec.count("/") != 1:
        raise FilterPolicyError("Malformed CIDR, one '/' required")
    try:
        network = ipaddress.ip_network(spec, strict=False)
    except ValueError:
        raise FilterPolicyError(f"Nonstandard IP address: {spec.split('/')[0]}") from None

    def test(value: Value) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return test


def _operator_condition(spec: Mapping[str, Any]) -> Condition:
    if len(spec) != 1:
        raise FilterPolicyError("Only one key allowed in match expression")
    ((name, operand),) = spec.items()
    if name == "exists":
        if not isinstance(operand, bool):
            raise FilterPolicyError("exists match pattern must be either true or false.")
        return Condition(lambda _v: True, exists=operand)
    if name == "prefix":
        text = _string_operand("prefix", operand)
        return Condition(lambda v: isinstance(v, str) and v.startswith(text))
    if name == "suffix":
        text = _string_operand("suffix", operand)
        return Condition(lambda v: isinstance(v, str) and v.endswith(text))
    if name == "equals-ignore-case":
        folded = _string_operand("equals-ignore-case", operand).casefold()
        return Condition(lambda v: isinstance(v, str) and v.casefold() == folded)
    if name == "anything-but":
        return Condition(_anything_but(operand))
    if name == "numeric":
        return Condition(_numeric(operand))
    if name == "cidr":
        return Condition(_cidr(operand))
    raise FilterPolicyError(f"Unrecognized match type {name}")


def _condition(spec: object) -> Condition:
    if isinstance(spec, dict):
        return _operator_condition(spec)
    if isinstance(spec, str | bool) or spec is None or _is_number(spec):
        return Condition(_exact(spec))
    raise FilterPolicyError("Match value must be String, number, true, false, or null")


Alternative = dict[Path, list[Condition]]


def _merge(left: list[Alternative], right: list[Alternative]) -> list[Alternative]:
    return [{**a, **b} for a in left for b in right]


def _compile_object(document: Mapping[str, Any], prefix: Path, nested: bool) -> list[Alternative]:
    alternatives: list[Alternative] = [{}]
    for key, value in document.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise FilterPolicyError("Value of $or must be an array of at least 2 objects")
            options: list[Alternative] = []
            for option in value:
                if not isinstance(option, dict):
                    raise FilterPolicyError("Value of $or must be an array of at least 2 objects")
                options.extend(_compile_object(option, prefix, nested))
            alternatives = _merge(alternatives, options)
        elif isinstance(value, dict):
            if not nested:
                raise FilterPolicyError(
                    "Filter policy scope MessageAttributes does not support nested filter policy"
                )
            alternatives = _merge(alternatives, _compile_object(value, (*prefix, key), nested))
        elif isinstance(value, list):
            if not value:
                raise FilterPolicyError("Empty arrays are not allowed")
            conditions = [_condition(item) for item in value]
            alternatives = _merge(alternatives, [{(*prefix, key): conditions}])
        else:
            raise FilterPolicyError(f'"{key}" must be an object or an array')
    return alternatives


@dataclass(frozen=True)
class FilterPolicy:
    scope: str
    alternatives: tuple[Alternative, ...]

    def matches_attributes(self, attributes: Mapping[str, Mapping[str, Any]]) -> bool:
        """Does a message with these SNS message attributes (``DataType``/``StringValue``) match?"""
        return any(
            _alternative_matches(alternative, lambda path: attribute_values(attributes.get(path[0])))
            for alternative in self.alternatives
        )

    def matches_body(self, message: str) -> bool:
        """Does this message body (a JSON object, or no match) match?"""
        try:
            document = json.loads(message)
        except ValueError:
            return False
        if not isinstance(document, dict):
            return False
        return any(
            _alternative_matches(alternative, lambda path: body_values(document, path))
            for alternative in self.alternatives
        )


def _alternative_matches(alternative: Alternative, values_at: Callable[[Path], list[Value] | None]) -> bool:
    for path, conditions in alternative.items():
        values = values_at(path)
        if not any(_condition_matches(condition, values) for condition in conditions):
            return False
    return True


def _condition_matches(condition: Condition, values: list[Value] | None) -> bool:
    if condition.exists is not None:
        return (values is not None) == condition.exists
    return values is not None and any(condition.test(value) for value in values)


def attribute_values(attribute: Mapping[str, Any] | None) -> list[Value] | None:
    """The values a filter sees for one message attribute, or None when it is absent (binary
    attributes are not filterable and count as absent)."""
    if attribute is None:
        return None
    data_type = str(attribute.get("DataType", ""))
    text = attribute.get("StringValue")
    if text is None:
        return None
    if data_type.startswith("Number"):
        try:
            return [float(text)]
        except ValueError:
            return None
    if data_type.startswith("String.Array"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return [text]
        return _flatten(parsed if isinstance(parsed, list) else [parsed])
    if data_type.startswith("String"):
        return [text]
    return None


def _flatten(items: Iterable[Any]) -> list[Value]:
    values: list[Value] = []
    for item in items:
        if isinstance(item, list):
            values.extend(_flatten(item))
        elif isinstance(item, str | bool) or item is None:
            values.append(item)
        elif _is_number(item):
            values.append(float(item))
    return values


def body_values(document: Any, path: Path) -> list[Value] | None:
    """The values at ``path`` in a JSON body (arrays are searched element-wise), or None."""
    nodes: list[Any] = [document]
    for key in path:
        found: list[Any] = []
        for node in nodes:
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, dict) and key in item:
                    found.append(item[key])
        if not found:
            return None
        nodes = found
    leaves = [node for node in nodes if not isinstance(node, dict)]
    if not leaves:
        return None
    return _flatten(leaves)


def compile_policy(text: str, scope: str) -> FilterPolicy:
    """Validate and compile a policy; raise :class:`FilterPolicyError` with AWS's reason."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise FilterPolicyError("Filter policy is too large")
    try:
        document = json.loads(text)
    except ValueError:
        raise FilterPolicyError("failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise FilterPolicyError("Filter policy must be a JSON object")
    alternatives = _compile_object(document, (), scope == SCOPE_BODY)
    combinations = 0
    for alternative in alternatives:
        if len(alternative) > MAX_KEYS:
            raise FilterPolicyError(f"Filter policy can not have more than {MAX_KEYS} keys")
        product = 1
        for conditions in alternative.values():
            product *= len(conditions)
        combinations += product
    if combinations > MAX_COMBINATIONS:
        raise FilterPolicyError("Filter policy is too complex")
    return FilterPolicy(scope, tuple(alternatives))
