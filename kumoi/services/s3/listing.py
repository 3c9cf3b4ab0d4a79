"""ListObjects and ListObjectsV2: prefixes, delimiters and pages in O(page size).

The store lists keys in UTF-8 byte order from a position. With a delimiter, keys that share a
common prefix collapse into one ``CommonPrefixes`` entry, and the scan jumps past all of them at
once (to ``prefix + U+10FFFF``, the largest UTF-8 sequence), so a page costs a few index range
scans however many keys hide under one prefix.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from kumoi.core.errors import ServiceError
from kumoi.services.s3.owner import owner_of
from kumoi.storage.meta.contract import ListedObject, S3Repository

MAX_KEYS = 1000
#: Sorts after every key that has the same prefix: where a scan resumes past a common prefix.
PAST_EVERYTHING = "\U0010ffff"


@dataclass(slots=True)
class Page:
    objects: list[ListedObject] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""  # the last key or common prefix on the page, where the next page starts after


async def list_page(
    repo: S3Repository, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int
) -> Page:
    """One page of at most ``max_keys`` keys and common prefixes after ``after``."""
    page = Page()
    if max_keys == 0:
        return page
    if not delimiter:
        # Every key is an entry: one read of one more than a page tells whether there are more.
        batch = await repo.list_objects(bucket, prefix, after, max_keys + 1)
        page.truncated = len(batch) > max_keys
        page.objects = batch[:max_keys]
        if page.objects:
            page.last = page.objects[-1].key
        return page
    position = after
    while True:
        wanted = max_keys - len(page.objects) - len(page.prefixes) + 1
        batch = await repo.list_objects(bucket, prefix, position, wanted)
        if not batch:
            return page
        for record in batch:
            common = _common_prefix(record.key, prefix, delimiter)
            if common == after:
                # The previous page ended on this common prefix (its marker or token names it):
                # resume past every key under it, or the next page would show it again.
                position = common + PAST_EVERYTHING
                break
            if len(page.objects) + len(page.prefixes) == max_keys:
                page.truncated = True
                return page
            if common is None:
                page.objects.append(record)
                page.last = position = record.key
                continue
            page.prefixes.append(common)
            page.last = common
            position = common + PAST_EVERYTHING
            break
        else:
            if len(batch) < wanted:
                return page


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def max_keys_of(request: dict[str, Any]) -> int:
    value = int(request.get("MaxKeys", MAX_KEYS))
    if value < 0:
        raise ServiceError(
            "InvalidArgument",
            "Provided max-keys not an integer or within integer range",
            fields={"ArgumentName": "max-keys", "ArgumentValue": str(value)},
        )
    return min(value, MAX_KEYS)


def encoder_for(request: dict[str, Any]) -> Callable[[str], str]:
    """Key encoding for the response: ``EncodingType=url`` percent-encodes as S3 does."""
    encoding = request.get("EncodingType")
    if encoding is None:
        return _identity
    if encoding != "url":
        raise ServiceError(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            fields={"ArgumentName": "encoding-type", "ArgumentValue": str(encoding)},
        )
    return _url_encode


def _identity(value: str) -> str:
    return value


def _url_encode(value: str) -> str:
    return quote_plus(value, safe="/")


def contents(
    records: list[ListedObject], encode: Callable[[str], str], with_owner: bool
) -> list[dict[str, Any]]:
    # Entries share one checksum-name list and one owner mapping per distinct value: the protocol's
    # listing writer renders what entries share once (and a page holds few distinct values).
    entries = []
    algorithms: dict[str, list[str]] = {}
    owners: dict[str, dict[str, str]] = {}
    for record in records:
        entry: dict[str, Any] = {
            "Key": encode(record.key),
            "LastModified": record.last_modified,
            "ETag": record.etag,
            "Size": record.size,
            "StorageClass": record.storage_class or "STANDARD",
        }
        names = record.checksums
        if names:
            listed = algorithms.get(names)
            if listed is None:
                listed = algorithms[names] = names.upper().split(",")
            entry["ChecksumAlgorithm"] = listed
            entry["ChecksumType"] = "FULL_OBJECT"
        if with_owner:
            account = record.owner or ""
            owner = owners.get(account)
            if owner is None:
                owner = owners[account] = owner_of(account)
            entry["Owner"] = owner
        entries.append(entry)
    return entries


def encode_token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode("utf-8")).decode()


def decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise ServiceError(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            fields={"ArgumentName": "continuation-token"},
        ) from None
