"""Bucket versioning: Put/GetBucketVersioning, version ids, and the rules every write follows.

A bucket is *unversioned* until versioning is first set; then it is Enabled or Suspended and can
never go back (``bucket.config["Versioning"]``). What a write does depends on that state:

- unversioned: objects are replaced and deleted as if versions did not exist (the store's plain
  path, at no extra cost); every object is the ``null`` version;
- Enabled: each write gets a fresh version id and keeps the version it supersedes; a DELETE
  without a version id adds a delete marker;
- Suspended: writes get the ``null`` version id, replacing the null version (wherever it is) and
  keeping the others; a DELETE adds a null delete marker.

Version ids are 32 URL-safe characters: base64 of a 2-byte tag, the write's time in microseconds
(7 bytes) and 15 random bytes. The time lets a listing go on after a version that was deleted
since its last page (:func:`written_at`); ids issued before it was there are random throughout. A
version id in a request that could never have been issued is an ``InvalidArgument`` (as S3
answers malformed ids); a well-formed one that names no version is ``NoSuchVersion``.
"""

from __future__ import annotations

import base64
import binascii
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


#: The first bytes of a version id that carries its write's time.
_TIMED_TAG = b"\x6b\x75"
_TIME_BYTES = 7


def new_version_id(written: float) -> str:
    """A version id for a version written at ``written`` (seconds since the epoch)."""
    micros = round(written * 1_000_000).to_bytes(_TIME_BYTES, "big")
    return base64.urlsafe_b64encode(_TIMED_TAG + micros + secrets.token_bytes(15)).decode("ascii")


def written_at(version_id: str) -> float | None:
    """When the version ``version_id`` names was written, if its id tells (see the module doc)."""
    if len(version_id) != 32:
        return None
    try:
        raw = base64.urlsafe_b64decode(version_id)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_TIMED_TAG):
        return None
    return int.from_bytes(raw[2 : 2 + _TIME_BYTES], "big") / 1_000_000


def assign(bucket: BucketRecord, record: ObjectRecord) -> bool:
    """Give ``record`` the version id a write into ``bucket`` gets; True if the bucket keeps
    versions (the store's ``versioned`` flag)."""
    state = status(bucket)
    record.version_id = new_version_id(record.last_modified) if state == ENABLED else None
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
