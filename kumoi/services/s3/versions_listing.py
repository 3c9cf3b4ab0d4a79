"""ListObjectVersions: every version and delete marker, in S3's order, a page at a time.

Keys come in UTF-8 byte order and each key's versions newest first; versions go to ``Versions``
and delete markers to ``DeleteMarkers`` (the SDKs read the two lists apart). A page resumes after
``KeyMarker`` (all of its versions) or, with ``VersionIdMarker``, right after that version. With a
delimiter, keys that share a common prefix collapse into one ``CommonPrefixes`` entry and the scan
jumps past them (as :mod:`~kumoi.services.s3.listing` does), so a page costs a few index range
scans whatever the number of versions. A version marker whose version was deleted since the last
page resumes with the versions of its key that came after it (see :func:`remaining_versions`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors, listing, restore, versioning
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.listing_request import ListingRequest
from kumoi.services.s3.owner import owner_of
from kumoi.storage.meta.contract import ListedVersion, S3Repository, VersionMissing


@dataclass(slots=True)
class VersionPage:
    entries: list[ListedVersion] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    #: Where the next page starts: the last key (or common prefix) and version id shown.
    next_key: str = ""
    next_version: str | None = None


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


async def list_version_page(
    repo: S3Repository,
    bucket: str,
    prefix: str,
    delimiter: str,
    key_marker: str,
    version_marker: str,
    limit: int,
) -> VersionPage:
    """One page of at most ``limit`` versions, delete markers and common prefixes. A truncated
    page starts the store's first read of the next page (see :func:`listing.list_page`)."""
    page = VersionPage()
    if limit == 0:
        return page
    key_marker, version_marker = _start(prefix, delimiter, key_marker, version_marker)
    while True:
        wanted = limit - len(page.entries) - len(page.prefixes) + 1
        whole = True  # a batch shorter than asked for is the end of the listing
        try:
            batch = await repo.list_versions(bucket, prefix, key_marker, version_marker, wanted)
        except VersionMissing:
            batch = await remaining_versions(repo, bucket, prefix, key_marker, version_marker, wanted)
            version_marker, whole = "", False
        if not batch:
            if whole:
                return page
            continue
        for entry in batch:
            if len(page.entries) + len(page.prefixes) == limit:
                page.truncated = True
                next_key, next_version = _start(prefix, delimiter, page.next_key, page.next_version or "")
                repo.read_ahead_versions(bucket, prefix, next_key, next_version, limit + 1)
                return page
            common = _common_prefix(entry.key, prefix, delimiter)
            if common is None:
                page.entries.append(entry)
                page.next_key, page.next_version = entry.key, versioning.wire_id(entry.version_id)
                key_marker, version_marker = page.next_key, page.next_version
                continue
            page.prefixes.append(common)
            page.next_key, page.next_version = common, None
            key_marker, version_marker = common + listing.PAST_EVERYTHING, ""
            break
        else:
            if whole and len(batch) < wanted:
                return page


async def remaining_versions(
    repo: S3Repository, bucket: str, prefix: str, key: str, deleted: str, limit: int
) -> list[ListedVersion]:
    """The versions of ``key`` that came after its version ``deleted``, which was deleted since a
    page ended on it: S3 goes on with them, so a client that deletes each page before asking for
    the next one sees every version (and so does the lifecycle worker's walk). Which came after
    is told by the time ``deleted``'s id carries (:func:`versioning.written_at`); an id without
    one (the null version, ids issued before) gets all the key's remaining versions."""
    if not key.startswith(prefix):
        return []
    stood = versioning.written_at(deleted)
    key_marker = version_marker = ""
    while True:
        listed = await repo.list_versions(bucket, key, key_marker, version_marker, limit)
        mine = list(itertools.takewhile(lambda entry: entry.key == key, listed))
        if stood is None:
            return mine
        after = [entry for entry in mine if entry.last_modified < stood]
        if after or len(mine) < limit:
            return after
        # A page of versions newer than the deleted one (still there): look further down.
        key_marker, version_marker = key, versioning.wire_id(mine[-1].version_id)


def _start(prefix: str, delimiter: str, key_marker: str, version_marker: str) -> tuple[str, str]:
    """Where a page's first read starts: keys under the marker's own common prefix were shown as
    that prefix already."""
    rolled = _common_prefix(key_marker, prefix, delimiter) if key_marker.startswith(prefix) else None
    if rolled is not None:
        return rolled + listing.PAST_EVERYTHING, ""
    return key_marker, version_marker


@dataclass(slots=True)
class _PageMembers:
    """The ``Owner`` and checksum members of one page's entries, built once per distinct value
    (a page holds few) and shared by the entries that have it; nothing changes them after."""

    owners: dict[str, dict[str, str]] = field(default_factory=dict)
    checksums: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def owner(self, account_id: str | None) -> dict[str, str]:
        account = account_id or ""
        found = self.owners.get(account)
        if found is None:
            found = self.owners[account] = owner_of(account)
        return found

    def checksum_members(self, listed: str) -> tuple[list[str], str]:
        found = self.checksums.get(listed)
        if found is None:
            names, _, kind = listed.rpartition(":")
            found = self.checksums[listed] = (names.split(","), kind)
        return found


def _version_entry(
    entry: ListedVersion, encode: Callable[[str], str], shared: _PageMembers
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ETag": entry.etag,
        "Size": entry.size,
        "StorageClass": entry.storage_class or "STANDARD",
        "Key": encode(entry.key),
        "VersionId": versioning.wire_id(entry.version_id),
        "IsLatest": entry.is_latest,
        "LastModified": entry.last_modified,
        "Owner": shared.owner(entry.owner),
    }
    if entry.checksums:
        item["ChecksumAlgorithm"], item["ChecksumType"] = shared.checksum_members(entry.checksums)
    return item


def _marker_entry(entry: ListedVersion, encode: Callable[[str], str], shared: _PageMembers) -> dict[str, Any]:
    return {
        "Owner": shared.owner(entry.owner),
        "Key": encode(entry.key),
        "VersionId": versioning.wire_id(entry.version_id),
        "IsLatest": entry.is_latest,
        "LastModified": entry.last_modified,
    }


class VersionListingOperations(S3Base):
    async def list_object_versions(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        args = ListingRequest.of(request)
        encode = args.encode
        key_marker = str(request.get("KeyMarker", ""))
        version_marker = str(request.get("VersionIdMarker", ""))
        if "VersionIdMarker" in request:
            if not key_marker:
                raise errors.invalid_argument(
                    "A version-id marker cannot be specified without a key marker.",
                    "version-id-marker",
                    version_marker,
                )
            versioning.requested_id(version_marker, "version-id-marker")
        page = await list_version_page(
            self._meta.s3, bucket.name, args.prefix, args.delimiter, key_marker, version_marker, args.max_keys
        )
        output: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(args.prefix),
            "KeyMarker": encode(key_marker),
            "VersionIdMarker": version_marker,
            "MaxKeys": args.max_keys,
            "IsTruncated": page.truncated,
            **args.grouping(request, page.prefixes),
        }
        listed = [e for e in page.entries if not e.delete_marker]
        shared = _PageMembers()
        versions = [_version_entry(e, encode, shared) for e in listed]
        await restore.add_restore_status(
            self._meta.s3, bucket.name, request, versions, listed, self._clock.now()
        )
        markers = [_marker_entry(e, encode, shared) for e in page.entries if e.delete_marker]
        if versions:
            output["Versions"] = versions
        if markers:
            output["DeleteMarkers"] = markers
        if page.truncated:
            output["NextKeyMarker"] = encode(page.next_key)
            if page.next_version is not None:
                output["NextVersionIdMarker"] = page.next_version
        return output
