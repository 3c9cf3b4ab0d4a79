"""Condition operators: ``{"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}``.

Each ``operator → key → values`` triple compiles to one :class:`Condition`. Semantics, as AWS
documents them:

- several values for one key are OR'ed; several keys, and several operators, are AND'ed;
- a key the request lacks makes a condition false, except for negated operators (``StringNotEquals``
  ...), ``...IfExists`` variants and ``Null``, which are then true;
- ``ForAnyValue:`` is true if any request value matches; ``ForAllValues:`` if every request value
  does (and also when the key is absent or empty); without a set prefix, a multivalued key
  behaves like ``ForAnyValue``;
- a negated operator is the negation of its positive form over the policy's values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from kumoi.auth.policy.errors import PolicySyntaxError
from kumoi.auth.policy.glob import arn_match, glob_match
from kumoi.auth.policy.variables import Template, compile_template

#: A positive comparison: (request value, policy value) → match.
Compare = Callable[[str, str], bool]


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _ordered(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Compare:
    def compare(have: str, want: str) -> bool:
        a, b = parse(have), parse(want)
        return a is not None and b is not None and test(a, b)

    return compare


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ip_in(have: str, want: str) -> bool:
    network = _network(want)
    try:
        address = ipaddress.ip_address(have)
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


def _bool(have: str, want: str) -> bool:
    return have.lower() == want.lower()


#: Positive operators, and for each negated name the positive one it negates.
_POSITIVE: dict[str, Compare] = {
    "StringEquals": lambda have, want: have == want,
    "StringEqualsIgnoreCase": lambda have, want: have.lower() == want.lower(),
    "StringLike": lambda have, want: glob_match(want, have),
    "NumericEquals": _ordered(_num, lambda a, b: a == b),
    "NumericLessThan": _ordered(_num, lambda a, b: a < b),
    "NumericLessThanEquals": _ordered(_num, lambda a, b: a <= b),
    "NumericGreaterThan": _ordered(_num, lambda a, b: a > b),
    "NumericGreaterThanEquals": _ordered(_num, lambda a, b: a >= b),
    "DateEquals": _ordered(_date, lambda a, b: a == b),
    "DateLessThan": _ordered(_date, lambda a, b: a < b),
    "DateLessThanEquals": _ordered(_date, lambda a, b: a <= b),
    "DateGreaterThan": _ordered(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _ordered(_date, lambda a, b: a >= b),
    "Bool": _bool,
    "BinaryEquals": lambda have, want: have == want,
    "IpAddress": _ip_in,
    "ArnEquals": lambda have, want: arn_match(want, have),
    "ArnLike": lambda have, want: arn_match(want, have),
}
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
OPERATORS = frozenset(_POSITIVE) | frozenset(_NEGATED) | {"Null"}
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
_IF_EXISTS = "IfExists"


@dataclass(frozen=True, slots=True)
class Condition:
    """One operator applied to one context key with the policy's values."""

    operator: str
    key: str
    values: tuple[Template, ...]
    compare: Compare | None
    negated: bool
    if_exists: bool
    set_mode: str

    def test(self, context: Mapping[str, Sequence[str]]) -> bool:
        have = context.get(self.key)
        if self.compare is None:  # Null
            absent = not have
            return any((value.text.lower() == "true") == absent for value in self.values)
        if not have:
            if self.set_mode == "ForAllValues:":
                return True
            if self.set_mode == "ForAnyValue:":
                return False
            return self.negated or self.if_exists
        wants = [
            value for value in (template.resolve(context) for template in self.values) if value is not None
        ]
        compare = self.compare

        def matches(item: str) -> bool:
            return any(compare(item, want) for want in wants)

        if self.set_mode == "ForAllValues:":
            if self.negated:
                return all(not matches(item) for item in have)
            return all(matches(item) for item in have)
        if self.negated:
            if self.set_mode == "ForAnyValue:":
                return any(not matches(item) for item in have)
            return not any(matches(item) for item in have)
        return any(matches(item) for item in have)


def compile_conditions(block: object, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise PolicySyntaxError("Syntax errors in policy.")
    conditions: list[Condition] = []
    for operator_name, keys in block.items():
        if not isinstance(keys, dict):
            raise PolicySyntaxError("Syntax errors in policy.")
        for key, raw in keys.items():
            conditions.append(_compile_one(operator_name, key, raw, variables))
    return tuple(conditions)


def _compile_one(name: str, key: object, raw: object, variables: bool) -> Condition:
    set_mode = ""
    base = name
    for prefix in _SET_PREFIXES:
        if base.startswith(prefix):
            set_mode, base = prefix, base[len(prefix) :]
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    if base not in OPERATORS or (if_exists and base == "Null") or not isinstance(key, str) or not key:
        raise PolicySyntaxError(f"Invalid Condition type : {name}")
    if ":" not in key:
        raise PolicySyntaxError("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    items = raw if isinstance(raw, list) else [raw]
    texts: list[str] = []
    for item in items:
        if not isinstance(item, str | int | float | bool):
            raise PolicySyntaxError("Syntax errors in policy.")
        texts.append(_text(item))
    if not texts:
        raise PolicySyntaxError("Syntax errors in policy.")
    values = tuple(compile_template(text, variables) for text in texts)
    negated = base in _NEGATED
    compare = None if base == "Null" else _POSITIVE[_NEGATED.get(base, base)]
    return Condition(name, key.lower(), values, compare, negated, if_exists, set_mode)


def _text(item: str | int | float | bool) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)
