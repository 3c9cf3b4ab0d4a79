"""Put/Get/DeleteBucketLifecycleConfiguration: AWS's validation, and the stored form.

A valid configuration is kept in the bucket's ``config["Lifecycle"]`` as ``{"Rules": [...],
"MinimumSize": ...}``: each rule as the request gave it (a missing ``ID`` gets a generated one, as
S3 does), with dates as epoch seconds; GET turns them back. What is refused, and how, follows
S3's answers: malformed combinations (two of Days/Date/ExpiredObjectDeleteMarker, a Filter with
two conditions, Filter and Prefix together) are ``MalformedXML``; values out of range are
``InvalidArgument``; rules that contradict themselves are ``InvalidRequest``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.lifecycle_rules import ALL_CLASSES_128K, VARIES_BY_CLASS, rule_filter
from kumoi.services.s3.periods import MAX_PERIOD_DAYS

CONFIG_KEY = "Lifecycle"
MAX_RULES = 1000
MAX_ID_LENGTH = 255
#: Classes an object must stay 30 days in STANDARD before entering.
THIRTY_DAY_CLASSES = frozenset({"STANDARD_IA", "ONEZONE_IA"})
TRANSITION_CLASSES = frozenset(
    {"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"}
)
MINIMUM_SIZES = frozenset({ALL_CLASSES_128K, VARIES_BY_CLASS})
MAX_NEWER_NONCURRENT = 100
_FILTER_MEMBERS = ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")
_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionExpiration",
    "AbortIncompleteMultipartUpload",
)


def _invalid(message: str, name: str = "", value: object = "") -> ServiceError:
    if name:
        return errors.invalid_argument(message, name, str(value))
    return ServiceError("InvalidArgument", message, status=400)


def _positive_days(action: dict[str, Any], member: str, action_name: str) -> None:
    """``action[member]`` must be there (MalformedXML) and a positive integer (InvalidArgument)."""
    if member not in action:
        raise errors.malformed_xml()
    if int(action[member]) <= 0:
        message = f"'{member}' for {action_name} action must be a positive integer"
        raise _invalid(message, member, action[member])
    _check_period(int(action[member]), member, action_name)


def _check_period(days: int, member: str, action_name: str) -> None:
    if days > MAX_PERIOD_DAYS:
        message = f"'{member}' for {action_name} action must be no greater than {MAX_PERIOD_DAYS}"
        raise _invalid(message, member, days)


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(str(value))
    if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0) or (
        moment.utcoffset() or 0
    ):
        raise _invalid("'Date' must be at midnight GMT")
    return moment.timestamp()


def _check_filter(rule: dict[str, Any]) -> None:
    if "Filter" in rule and "Prefix" in rule:
        raise errors.malformed_xml()
    if "Filter" not in rule and "Prefix" not in rule:
        raise errors.malformed_xml()
    given = rule.get("Filter")
    if given is None:
        return
    if sum(member in given for member in _FILTER_MEMBERS) > 1:
        raise errors.malformed_xml()
    conditions = rule_filter(rule)
    tags = (given.get("And") or {}).get("Tags") or []
    if len({tag["Key"] for tag in tags}) != len(tags):
        raise errors.invalid_request("Duplicate Tag Keys are not allowed.")
    low, high = conditions.get("ObjectSizeGreaterThan"), conditions.get("ObjectSizeLessThan")
    for name, value in (("ObjectSizeGreaterThan", low), ("ObjectSizeLessThan", high)):
        if value is not None and int(value) < 0:
            raise _invalid(f"'{name}' should be a non-negative integer", name, value)
    if low is not None and high is not None and int(low) >= int(high):
        raise _invalid(
            "'ObjectSizeLessThan' must be greater than 'ObjectSizeGreaterThan'", "ObjectSizeLessThan", high
        )


def _check_expiration(rule: dict[str, Any]) -> None:
    action = rule.get("Expiration")
    if action is None:
        return
    given = [member for member in ("Days", "Date", "ExpiredObjectDeleteMarker") if member in action]
    if len(given) != 1:
        raise errors.malformed_xml()
    if "Days" in action:
        _positive_days(action, "Days", "Expiration")
    if "Date" in action:
        action["Date"] = _epoch(action["Date"])
    if action.get("ExpiredObjectDeleteMarker") and rule_filter(rule)["Tags"]:
        raise errors.invalid_request("ExpiredObjectDeleteMarker cannot be specified with tags.")


def _check_transitions(rule: dict[str, Any]) -> None:
    transitions: list[dict[str, Any]] = rule.get("Transitions") or []
    classes = [transition.get("StorageClass") for transition in transitions]
    if len(set(classes)) != len(classes):
        raise errors.invalid_request(
            "'StorageClass' must be different for 'Transition' actions in same 'Rule'"
        )
    kinds = set()
    for transition in transitions:
        storage_class = transition.get("StorageClass")
        if storage_class not in TRANSITION_CLASSES:
            raise errors.malformed_xml()
        given = [member for member in ("Days", "Date") if member in transition]
        if len(given) != 1:
            raise errors.malformed_xml()
        kinds.add(given[0])
        if "Date" in transition:
            transition["Date"] = _epoch(transition["Date"])
            continue
        days = int(transition["Days"])
        if days < 0:
            raise _invalid("'Days' in Transition action must be nonnegative", "Days", days)
        _check_period(days, "Days", "Transition")
        if storage_class in THIRTY_DAY_CLASSES and days < 30:
            raise _invalid(
                f"'Days' in Transition action must be greater than or equal to 30 for storageClass "
                f"'{storage_class}'",
                "Days",
                days,
            )
    if len(kinds) > 1:
        raise errors.invalid_request(
            "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule"
        )
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration and any(int(t.get("Days", -1)) >= int(expiration["Days"]) for t in transitions):
        raise _invalid(
            "'Days' in the Expiration action must be greater than 'Days' in the Transition action",
            "Days",
            expiration["Days"],
        )


def _check_noncurrent(rule: dict[str, Any]) -> None:
    for transition in rule.get("NoncurrentVersionTransitions") or []:
        storage_class = transition.get("StorageClass")
        if storage_class not in TRANSITION_CLASSES or "NoncurrentDays" not in transition:
            raise errors.malformed_xml()
        days = int(transition["NoncurrentDays"])
        if days < 0:
            raise _invalid("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative")
        _check_period(days, "NoncurrentDays", "NoncurrentVersionTransition")
        if storage_class in THIRTY_DAY_CLASSES and days < 30:
            raise _invalid(
                "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 "
                f"for storageClass '{storage_class}'",
                "NoncurrentDays",
                days,
            )
    action = rule.get("NoncurrentVersionExpiration")
    if action is None:
        return
    _positive_days(action, "NoncurrentDays", "NoncurrentVersionExpiration")
    newer = action.get("NewerNoncurrentVersions")
    if newer is not None and not 1 <= int(newer) <= MAX_NEWER_NONCURRENT:
        raise _invalid(
            f"'NewerNoncurrentVersions' must be a positive integer no greater than {MAX_NEWER_NONCURRENT}",
            "NewerNoncurrentVersions",
            newer,
        )


def _check_abort(rule: dict[str, Any]) -> None:
    action = rule.get("AbortIncompleteMultipartUpload")
    if action is None:
        return
    _positive_days(action, "DaysAfterInitiation", "AbortIncompleteMultipartUpload")
    if rule_filter(rule)["Tags"]:
        raise errors.invalid_request("AbortIncompleteMultipartUpload cannot be specified with Tags.")


def new_rule_id() -> str:
    return base64.b64encode(secrets.token_bytes(36)).decode()


def validate(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored form of ``rules`` (copies), or the error S3 answers for them."""
    if not rules or len(rules) > MAX_RULES:
        raise errors.malformed_xml()
    stored: list[dict[str, Any]] = []
    seen: set[str] = set()
    for given in rules:
        rule = {name: _copy(value) for name, value in given.items()}
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise errors.malformed_xml()
        rule_id = rule.setdefault("ID", new_rule_id())
        if len(rule_id) > MAX_ID_LENGTH:
            raise _invalid("ID length should not exceed allowed limit of 255", "ID", rule_id)
        if rule_id in seen:
            raise _invalid("Rule ID must be unique. Found same ID for more than one rule", "ID", rule_id)
        seen.add(rule_id)
        _check_filter(rule)
        if not any(rule.get(action) for action in _ACTIONS):
            raise errors.invalid_request("At least one action needs to be specified in a rule")
        _check_expiration(rule)
        _check_transitions(rule)
        _check_noncurrent(rule)
        _check_abort(rule)
        stored.append(rule)
    return stored


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _copy(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _output_rule(rule: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = _copy(rule)
    for action in [shown.get("Expiration") or {}, *(shown.get("Transitions") or [])]:
        if "Date" in action:
            action["Date"] = datetime.fromtimestamp(action["Date"], UTC)
    return shown


def stored_rules(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bucket's stored lifecycle rules (empty without a configuration)."""
    lifecycle: dict[str, Any] = config.get(CONFIG_KEY) or {}
    rules: list[dict[str, Any]] = lifecycle.get("Rules") or []
    return rules


def minimum_size(config: Mapping[str, Any]) -> str:
    return str((config.get(CONFIG_KEY) or {}).get("MinimumSize", ALL_CLASSES_128K))


class LifecycleConfigOperations(S3Base):
    async def put_bucket_lifecycle_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        configuration = request.get("LifecycleConfiguration")
        if configuration is None:
            raise errors.malformed_xml()
        minimum = request.get("TransitionDefaultMinimumObjectSize", ALL_CLASSES_128K)
        if minimum not in MINIMUM_SIZES:
            raise _invalid(
                "Invalid value for x-amz-transition-default-minimum-object-size",
                "x-amz-transition-default-minimum-object-size",
                minimum,
            )
        rules = validate(list(configuration.get("Rules") or []))
        await self._set_bucket_setting(bucket, CONFIG_KEY, {"Rules": rules, "MinimumSize": minimum})
        return {"TransitionDefaultMinimumObjectSize": minimum}

    async def get_bucket_lifecycle_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rules = stored_rules(bucket.config)
        if not rules:
            raise errors.no_bucket_configuration(
                "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", bucket.name
            )
        return {
            "Rules": [_output_rule(rule) for rule in rules],
            "TransitionDefaultMinimumObjectSize": minimum_size(bucket.config),
        }

    async def delete_bucket_lifecycle(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._remove_bucket_setting(bucket, CONFIG_KEY)
        return {}

    async def put_bucket_lifecycle(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The deprecated form: rules with a ``Prefix`` and at most one ``Transition`` each."""
        rules = [
            _from_legacy(rule) for rule in (request.get("LifecycleConfiguration") or {}).get("Rules") or []
        ]
        await self.put_bucket_lifecycle_configuration(
            ctx, {"Bucket": request["Bucket"], "LifecycleConfiguration": {"Rules": rules}}
        )
        return {}

    async def get_bucket_lifecycle(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        output = await self.get_bucket_lifecycle_configuration(ctx, request)
        return {"Rules": [_to_legacy(rule) for rule in output["Rules"]]}


_LEGACY_LISTS = (
    ("Transition", "Transitions"),
    ("NoncurrentVersionTransition", "NoncurrentVersionTransitions"),
)


def _from_legacy(rule: dict[str, Any]) -> dict[str, Any]:
    converted = dict(rule)
    for single, plural in _LEGACY_LISTS:
        if single in converted:
            converted[plural] = [converted.pop(single)]
    return converted


def _to_legacy(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as GetBucketLifecycle shows it: its prefix, its first transition of each kind."""
    converted = {name: value for name, value in rule.items() if name != "Filter"}
    converted["Prefix"] = str(rule_filter(rule)["Prefix"])
    for single, plural in _LEGACY_LISTS:
        if converted.get(plural):
            converted[single] = converted.pop(plural)[0]
    return converted
