"""Bucket versioning: Put/GetBucketVersioning, version ids, and the rules every write follows.

A bucket is *unversioned* until versioning is first set; then it is Enabled or Suspended and can
never go back (``bucket.config["Versioning"]``). What a write does depends on that state:

- unversioned: objects are replaced and deleted as if versions did not exist (the store's plain
  path, at no extra cost); every object is the ``null`` version;
- Enabled: each write gets a fresh version id and keeps the version it supersedes; a DELETE
  without a version id adds a delete marker;
- Suspended: writes get the ``null`` version id, replacing the null version (wherever it is) and
  keeping the others; a DELETE adds a null delete marker.

Version ids are 32 URL-safe random characters. A version id in a request that could never have
been issued is an ``InvalidArgument`` (as S3 answers malformed ids); a well-formed one that names
no version is ``NoSuchVersion``.
"""

from __future__ import annotations

import re
import secrets
from email.utils import formatdate

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.storage.meta.contract import NULL_VERSION, BucketRecord, ObjectRecord

ATTR = "Versioning"
ENABLED = "Enabled"
SUSPENDED = "Suspended"
STATUSES = (ENABLED, SUSPENDED)
MFA_DELETE = ("Enabled", "Disabled")
_VERSION_ID = re.compile(r"[A-Za-z0-9._-]{32}")


def status(bucket: BucketRecord) -> str | None:
    """``Enabled``, ``Suspended``, or None for a bucket that was never versioned."""
    config = bucket.config.get(ATTR)
    return None if config is None else str(config.get("Status")) if config.get("Status") else None


def new_version_id() -> str:
    return secrets.token_urlsafe(24)


def assign(bucket: BucketRecord, record: ObjectRecord) -> bool:
    """Give ``record`` the version id a write into ``bucket`` gets; True if the bucket keeps
    versions (the store's ``versioned`` flag)."""
    state = status(bucket)
    record.version_id = new_version_id() if state == ENABLED else None
    return state is not None


def wire_id(version_id: str | None) -> str:
    """A version id as S3 sends it: the null version is ``null``."""
    return NULL_VERSION if version_id is None else version_id


def shown_id(bucket: BucketRecord, version_id: str | None) -> dict[str, str]:
    """The ``VersionId`` output member a response about a version carries: none in a bucket that
    was never versioned."""
    return {} if status(bucket) is None else {"VersionId": wire_id(version_id)}


def requested_id(value: str, argument: str = "versionId") -> str | None:
    """The version a request's ``versionId`` names (None: the null version); ``InvalidArgument``
    for an id S3 could not have issued."""
    if value == NULL_VERSION:
        return None
    if not _VERSION_ID.fullmatch(value):
        raise invalid_version(argument, value)
    return value


def invalid_version(argument: str, value: str) -> ServiceError:
    return errors.invalid_argument("Invalid version id specified", argument, value)


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchVersion",
        "The specified version does not exist.",
        status=404,
        fields={"Key": key, "VersionId": version_id},
    )


def marker_headers(marker: ObjectRecord) -> dict[str, str]:
    """What an answer about a delete marker says of it in headers."""
    return {"x-amz-delete-marker": "true", "x-amz-version-id": wire_id(marker.version_id)}


def delete_marker_read(marker: ObjectRecord) -> ServiceError:
    """GET/HEAD naming a delete marker by version id: 405, as S3 answers."""
    headers = marker_headers(marker)
    headers["Last-Modified"] = formatdate(marker.last_modified, usegmt=True)
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        status=405,
        fields={"Method": "GET", "ResourceType": "DeleteMarker"},
        headers=headers,
    )
