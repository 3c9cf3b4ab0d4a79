"""Lifecycle evaluation: which rule acts on an object, and when (pure functions of the rules).

Rules are the stored form of a validated configuration (:mod:`.lifecycle_config`): the model's
members, with dates as epoch seconds. Times follow S3: an action ``Days`` after creation falls due
at the creation time plus that many days, *rounded up to the next midnight UTC*; ``Date`` actions
at that (midnight) date. When several actions are due, expiration wins over transition, and of
transitions the one to the coldest class wins (S3's waterfall order). By default objects under
128 KiB are not transitioned (``TransitionDefaultMinimumObjectSize``), unless the rule's filter
sets a size bound of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

DAY = 86400.0
#: Storage classes from warmest to coldest: objects only ever transition down this list.
TIER_ORDER = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
ALL_CLASSES_128K = "all_storage_classes_128K"
VARIES_BY_CLASS = "varies_by_storage_class"
#: Objects smaller than this are not transitioned unless a rule's filter names a size.
SMALL_OBJECT = 128 * 1024
#: Classes whose objects need a restore before a read.
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
#: Classes that take objects of any size under ``varies_by_storage_class``.
ANY_SIZE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


@dataclass(frozen=True, slots=True)
class ObjectFacts:
    """What evaluation needs of an object."""

    key: str
    size: int
    created: float
    storage_class: str = "STANDARD"
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A due action: ``expire``, or ``transition`` to ``storage_class``, by rule ``rule_id``."""

    kind: str
    rule_id: str
    storage_class: str = ""


def due(created: float, days: int) -> float:
    """When an action ``days`` after ``created`` falls due: rounded up to the next midnight UTC."""
    return math.ceil((created + days * DAY) / DAY) * DAY


def action_time(action: Mapping[str, Any], created: float, days_member: str = "Days") -> float | None:
    if days_member in action:
        return due(created, int(action[days_member]))
    if "Date" in action:
        return float(action["Date"])
    return None


def enabled(rules: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [rule for rule in rules if rule.get("Status") == "Enabled"]


def rule_filter(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's conditions flattened: ``Prefix``, ``Tags`` (a dict), size bounds."""
    if "Filter" not in rule:
        return {"Prefix": rule.get("Prefix", ""), "Tags": {}}
    given = rule["Filter"]
    conditions: dict[str, Any] = dict(given.get("And") or given)
    conditions.pop("And", None)
    tags = {tag["Key"]: tag["Value"] for tag in conditions.pop("Tags", [])}
    if "Tag" in conditions:
        tag = conditions.pop("Tag")
        tags[tag["Key"]] = tag["Value"]
    conditions["Tags"] = tags
    conditions.setdefault("Prefix", "")
    return conditions


def prefix_of(rule: Mapping[str, Any]) -> str:
    return str(rule_filter(rule)["Prefix"])


def needs_tags(rule: Mapping[str, Any]) -> bool:
    return bool(rule_filter(rule)["Tags"])


def matches(rule: Mapping[str, Any], key: str, size: int, tags: Mapping[str, str] | None) -> bool:
    """Does ``rule``'s filter select the object? ``tags`` None: not known (any tag condition fails)."""
    conditions = rule_filter(rule)
    if not key.startswith(conditions["Prefix"]):
        return False
    if "ObjectSizeGreaterThan" in conditions and not size > int(conditions["ObjectSizeGreaterThan"]):
        return False
    if "ObjectSizeLessThan" in conditions and not size < int(conditions["ObjectSizeLessThan"]):
        return False
    wanted: dict[str, str] = conditions["Tags"]
    return not wanted or (tags is not None and all(tags.get(k) == v for k, v in wanted.items()))


def _colder(target: str, current: str) -> bool:
    order = {name: index for index, name in enumerate(TIER_ORDER)}
    return order.get(target, 0) > order.get(current, 0)


def _size_allows(rule: Mapping[str, Any], target: str, size: int, minimum: str) -> bool:
    conditions = rule_filter(rule)
    if "ObjectSizeGreaterThan" in conditions or "ObjectSizeLessThan" in conditions or size >= SMALL_OBJECT:
        return True
    return minimum == VARIES_BY_CLASS and target in ANY_SIZE_CLASSES


def expiration(rules: Sequence[Mapping[str, Any]], facts: ObjectFacts) -> tuple[float, str] | None:
    """The earliest (time, rule id) a Days/Date expiration of an enabled rule gives the object."""
    found: tuple[float, str] | None = None
    for rule in enabled(rules):
        action = rule.get("Expiration")
        if not action or not matches(rule, facts.key, facts.size, facts.tags):
            continue
        when = action_time(action, facts.created)
        if when is not None and (found is None or when < found[0]):
            found = (when, str(rule.get("ID", "")))
    return found


def due_action(
    rules: Sequence[Mapping[str, Any]], facts: ObjectFacts, now: float, minimum: str = ALL_CLASSES_128K
) -> Action | None:
    """The action due on a current object at ``now``, if any."""
    expiry = expiration(rules, facts)
    if expiry is not None and expiry[0] <= now:
        return Action("expire", expiry[1])
    best: Action | None = None
    for rule in enabled(rules):
        if not rule.get("Transitions") or not matches(rule, facts.key, facts.size, facts.tags):
            continue
        for transition in rule["Transitions"]:
            target = str(transition["StorageClass"])
            when = action_time(transition, facts.created)
            if when is None or when > now or not _colder(target, facts.storage_class):
                continue
            if not _size_allows(rule, target, facts.size, minimum):
                continue
            if best is None or _colder(target, best.storage_class):
                best = Action("transition", str(rule.get("ID", "")), target)
    return best


def noncurrent_transition(
    rules: Sequence[Mapping[str, Any]],
    key: str,
    size: int,
    superseded: float,
    storage_class: str,
    now: float,
    newer: dict[str, int],
) -> str | None:
    """The class a noncurrent version (noncurrent since ``superseded``) is due to move to, if any.

    Versions are evaluated newest first; ``newer`` counts, per rule, the noncurrent versions seen
    so far (``NewerNoncurrentVersions`` keeps that many where they are).
    """
    best: str | None = None
    for rule in enabled(rules):
        transitions = rule.get("NoncurrentVersionTransitions")
        if not transitions or not matches(rule, key, size, None if needs_tags(rule) else {}):
            continue
        rule_id = str(rule.get("ID", ""))
        seen = newer.get(rule_id, 0)
        newer[rule_id] = seen + 1
        for transition in transitions:
            target = str(transition["StorageClass"])
            if seen < int(transition.get("NewerNoncurrentVersions", 0)):
                continue
            if due(superseded, int(transition["NoncurrentDays"])) > now or not _colder(target, storage_class):
                continue
            if best is None or _colder(target, best):
                best = target
    return best


def abort_due(rules: Sequence[Mapping[str, Any]], key: str, initiated: float, now: float) -> bool:
    """Is an incomplete multipart upload of ``key`` begun at ``initiated`` due to be aborted?"""
    for rule in enabled(rules):
        action = rule.get("AbortIncompleteMultipartUpload")
        if (
            action
            and key.startswith(prefix_of(rule))
            and due(initiated, int(action["DaysAfterInitiation"])) <= now
        ):
            return True
    return False


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def expiration_header(rules: Sequence[Mapping[str, Any]], facts: ObjectFacts) -> str | None:
    """The ``x-amz-expiration`` value for the object: ``expiry-date="...", rule-id="..."``."""
    expiry = expiration(rules, facts)
    if expiry is None:
        return None
    return f'expiry-date="{http_date(expiry[0])}", rule-id="{quote(expiry[1], safe="")}"'


def scan_prefixes(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """The fewest key prefixes that cover every enabled rule (``[""]``: the whole bucket)."""
    prefixes = sorted({prefix_of(rule) for rule in enabled(rules)})
    covering: list[str] = []
    for prefix in prefixes:
        if not any(prefix.startswith(kept) for kept in covering):
            covering.append(prefix)
    return covering
