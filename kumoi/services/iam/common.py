"""What every group of IAM operations shares: entity look-ups with IAM's errors, paging, tags,
and policy document checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from kumoi.auth.policy import PolicyKind, PolicySyntaxError, parse_policy
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.directory import GROUP, POLICY, ROLE, USER, Doc, IamDirectory
from kumoi.services.iam.managed import AWS_MANAGED
from kumoi.services.iam.names import validation_error

#: Page size when MaxItems is absent, and its upper bound (IAM: 1..1000, default 100).
DEFAULT_MAX_ITEMS = 100
MAX_ITEMS = 1000
#: Tags per entity, and key/value lengths.
MAX_TAGS = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_TEXT = re.compile(r"^[\w\s_.:/=+\-@]*$")
_WHITESPACE = re.compile(r"\s+")

_KIND_WORDS = {USER: "user", ROLE: "role", GROUP: "group"}


class IamBase:
    """State and helpers of the IAM provider; the operation mixins build on it."""

    def __init__(self, directory: IamDirectory, clock: Clock) -> None:
        self.directory = directory
        self.clock = clock

    async def account(self, ctx: RequestContext) -> str:
        await self.directory.ready()
        self.directory.last_used[ctx.caller.access_key_id] = ("iam", ctx.region, self.clock.now())
        return ctx.account_id

    def entity(self, account_id: str, kind: str, name: str) -> Doc:
        doc = self.directory.get(account_id, kind, name)
        if doc is None:
            raise api.NoSuchEntityException(
                f"The {_KIND_WORDS.get(kind, kind)} with name {name} cannot be found."
            )
        return doc

    def managed_policy(self, account_id: str, arn: str) -> Doc:
        doc = AWS_MANAGED.get(arn)
        if doc is None:
            prefix = f"arn:aws:iam::{account_id}:policy"
            if arn.startswith(prefix):
                doc = self.directory.get(account_id, POLICY, arn.rsplit("/", 1)[-1])
                if doc is not None and doc["Arn"] != arn:
                    doc = None
        if doc is None:
            if not arn.startswith("arn:"):
                raise api.InvalidInputException(f"ARN {arn} is not valid.")
            raise api.NoSuchEntityException(f"Policy {arn} does not exist or is not attachable.")
        return doc


def paginate(items: Sequence[Doc], request: dict[str, Any], key: str) -> tuple[list[Doc], dict[str, Any]]:
    """One page after ``Marker`` (the last key of the previous page); the IsTruncated/Marker members."""
    max_items = request.get("MaxItems") or DEFAULT_MAX_ITEMS
    if not 1 <= max_items <= MAX_ITEMS:
        raise validation_error(
            str(max_items), "maxItems", f"Member must have value less than or equal to {MAX_ITEMS}"
        )
    marker = request.get("Marker")
    start = 0
    if marker:
        start = next((i + 1 for i, item in enumerate(items) if str(item[key]) == marker), len(items))
    page = list(items[start : start + max_items])
    more = start + max_items < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more and page:
        extra["Marker"] = str(page[-1][key])
    return page, extra


def under_path(items: Sequence[Doc], prefix: str) -> list[Doc]:
    return [item for item in items if item.get("Path", "/").startswith(prefix)]


def pick(doc: Doc, fields: Sequence[str]) -> Doc:
    return {name: doc[name] for name in fields if doc.get(name) not in (None, [], {})}


def encode_document(text: str) -> str:
    """IAM returns policy documents URL-encoded (botocore decodes them back)."""
    return quote(text, safe="")


def check_document(text: str, kind: PolicyKind, quota: str, limit: int) -> str:
    """Validate a policy document as IAM does: size quota (whitespace not counted), then syntax."""
    if len(_WHITESPACE.sub("", text)) > limit:
        raise api.LimitExceededException(f"Cannot exceed quota for {quota}: {limit}")
    try:
        parse_policy(text, kind)
    except PolicySyntaxError as exc:
        raise api.MalformedPolicyDocumentException(exc.message) from None
    return text


def check_tags(tags: Sequence[dict[str, str]] | None) -> list[dict[str, str]]:
    result: list[dict[str, str]] = []
    for tag in tags or ():
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= TAG_KEY_MAX or not _TAG_TEXT.match(key) or key.lower().startswith("aws:"):
            raise api.InvalidInputException(f"Invalid tag key {key!r}")
        if len(value) > TAG_VALUE_MAX or not _TAG_TEXT.match(value):
            raise api.InvalidInputException(f"Invalid tag value {value!r}")
        result.append({"Key": key, "Value": value})
    if len({tag["Key"] for tag in result}) != len(result):
        raise api.InvalidInputException(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        )
    return result


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {tag["Key"]: tag["Value"] for tag in current}
    merged.update({tag["Key"]: tag["Value"] for tag in new})
    if len(merged) > MAX_TAGS:
        raise api.LimitExceededException(f"Cannot exceed quota for TagsPerEntity: {MAX_TAGS}")
    return [{"Key": key, "Value": value} for key, value in merged.items()]


def remove_tags(current: list[dict[str, str]], keys: Sequence[str]) -> list[dict[str, str]]:
    drop = set(keys)
    return [tag for tag in current if tag["Key"] not in drop]


def sorted_by(items: Sequence[Doc], key: str) -> list[Doc]:
    return sorted(items, key=lambda item: str(item[key]))


def updated(doc: Doc, **changes: Any) -> Doc:
    """A changed copy: documents in the directory are replaced, never mutated in place."""
    return {**doc, **changes}
