"""Object Lock rules: which versions are protected, and who may shorten or bypass retention.

A version's lock lives in its ``attrs``: ``ObjectLockMode`` (GOVERNANCE or COMPLIANCE),
``ObjectLockRetainUntilDate`` (epoch seconds) and ``ObjectLockLegalHoldStatus`` (ON/OFF). A
version under a legal hold, or retained until a later date, cannot be deleted (by version id) by
anyone: COMPLIANCE not even by the root user; GOVERNANCE only by a request that sends
``x-amz-bypass-governance-retention: true`` and holds ``s3:BypassGovernanceRetention``.
Without a version id a delete only adds a delete marker, which Object Lock allows.

A bucket has Object Lock when created with it (which turns versioning on for good) or when a
configuration is put on a versioned bucket: ``bucket.config["ObjectLock"]`` holds the
configuration, whose default retention every new version without lock headers of its own gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kumoi.auth.policy import Target
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import checksums, errors
from kumoi.storage.meta.contract import BucketRecord

MODE = "ObjectLockMode"
RETAIN_UNTIL = "ObjectLockRetainUntilDate"
LEGAL_HOLD = "ObjectLockLegalHoldStatus"
GOVERNANCE = "GOVERNANCE"
COMPLIANCE = "COMPLIANCE"
MODES = (GOVERNANCE, COMPLIANCE)
BYPASS_ACTION = "s3:BypassGovernanceRetention"
#: What S3 says when a delete meets a protected version.
PROTECTED = "Access Denied because object protected by object lock."
#: Where a bucket keeps its Object Lock configuration.
CONFIG_ATTR = "ObjectLock"
LEGAL_HOLD_VALUES = ("ON", "OFF")
DAY_SECONDS = 86400
YEAR_DAYS = 365


def enabled(bucket: BucketRecord) -> bool:
    return bool(bucket.config.get(CONFIG_ATTR))


def missing_configuration() -> ServiceError:
    return errors.invalid_request("Bucket is missing Object Lock Configuration")


def no_lock_on_object() -> ServiceError:
    return ServiceError(
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
        status=404,
    )


def retain_until(value: datetime, now: float) -> float:
    """A requested retain-until date (which must lie in the future) as epoch seconds."""
    until = value.timestamp()
    if until <= now:
        raise errors.invalid_argument(
            "The retain until date must be in the future!",
            "x-amz-object-lock-retain-until-date",
            value.isoformat(),
        )
    return until


def check_mode(mode: str, argument: str = "x-amz-object-lock-mode") -> str:
    if mode not in MODES:
        raise errors.invalid_argument("Unknown wormMode directive.", argument, mode)
    return mode


def default_retention(bucket: BucketRecord, now: float) -> dict[str, Any]:
    """The lock attrs the bucket's default retention gives a new version, if it has one."""
    rule = (bucket.config.get(CONFIG_ATTR) or {}).get("Rule") or {}
    retention = rule.get("DefaultRetention")
    if not retention:
        return {}
    days = int(retention["Days"]) if "Days" in retention else int(retention["Years"]) * YEAR_DAYS
    return {MODE: retention["Mode"], RETAIN_UNTIL: now + days * DAY_SECONDS}


def write_attrs(bucket: BucketRecord, request: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The lock attrs a new version written by ``request`` (PutObject, CopyObject,
    CreateMultipartUpload) gets: its ``x-amz-object-lock-*`` headers, else the bucket's default
    retention. Validates the headers as S3 does."""
    asked = {member for member in ("ObjectLockMode", "ObjectLockRetainUntilDate") if member in request}
    hold = request.get("ObjectLockLegalHoldStatus")
    if (asked or hold is not None) and not enabled(bucket):
        raise missing_configuration()
    attrs: dict[str, Any] = {}
    if asked:
        if len(asked) == 1:
            raise errors.invalid_argument(
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                "x-amz-object-lock-mode"
                if "ObjectLockMode" not in asked
                else "x-amz-object-lock-retain-until-date",
                "",
            )
        attrs[MODE] = check_mode(str(request["ObjectLockMode"]))
        attrs[RETAIN_UNTIL] = retain_until(request["ObjectLockRetainUntilDate"], now)
    elif enabled(bucket):
        attrs.update(default_retention(bucket, now))
    if hold is not None:
        if hold not in LEGAL_HOLD_VALUES:
            raise errors.invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", str(hold)
            )
        attrs[LEGAL_HOLD] = hold
    return attrs


def check_integrity(request: Mapping[str, Any], lock: Mapping[str, Any]) -> None:
    """A PutObject that locks its version must carry Content-MD5 or a checksum, as S3 requires."""
    if MODE not in lock and LEGAL_HOLD not in lock:
        return
    if "ContentMD5" in request or "ChecksumAlgorithm" in request:
        return
    if any(member in request for member in checksums.MEMBERS.values()):
        return
    raise errors.invalid_request(
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock "
        "parameters"
    )


def output_members(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """GET/HEAD output members of a version's lock."""
    members: dict[str, Any] = {}
    if MODE in attrs:
        members["ObjectLockMode"] = attrs[MODE]
        members["ObjectLockRetainUntilDate"] = datetime.fromtimestamp(float(attrs[RETAIN_UNTIL]), UTC)
    if LEGAL_HOLD in attrs:
        members["ObjectLockLegalHoldStatus"] = attrs[LEGAL_HOLD]
    return members


def retained(attrs: Mapping[str, Any], now: float) -> str | None:
    """The retention mode still in force on a version at ``now``, or None."""
    mode = attrs.get(MODE)
    until = attrs.get(RETAIN_UNTIL)
    if mode in MODES and until is not None and float(until) > now:
        return str(mode)
    return None


def is_locked(attrs: Mapping[str, Any], now: float) -> bool:
    """True while a version may not be deleted or expired (retention in force, or a legal hold)."""
    return attrs.get(LEGAL_HOLD) == "ON" or retained(attrs, now) is not None


def lock_state(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A version's lock members as they are (None where absent): what a removal allowed under
    them expects to find still when it commits."""
    return {MODE: attrs.get(MODE), RETAIN_UNTIL: attrs.get(RETAIN_UNTIL), LEGAL_HOLD: attrs.get(LEGAL_HOLD)}


def protected() -> ServiceError:
    return ServiceError("AccessDenied", PROTECTED, status=403)


def may_bypass(request: Mapping[str, Any]) -> bool:
    """Does the request bypass GOVERNANCE retention? It asks to with
    ``x-amz-bypass-governance-retention: true``; that it may is settled before the provider runs:
    where the IAM engine evaluates a request that sends the header, the request needs
    ``s3:BypassGovernanceRetention`` on the object besides its own action (``authz.py``), and
    elsewhere only the bucket owner reaches its objects."""
    return bool(request.get("BypassGovernanceRetention"))


def check_removable(attrs: Mapping[str, Any], request: Mapping[str, Any], now: float) -> None:
    """Raise ``AccessDenied`` if a version with ``attrs`` may not be deleted by this request."""
    if attrs.get(LEGAL_HOLD) == "ON":
        raise protected()
    mode = retained(attrs, now)
    if mode == COMPLIANCE:
        raise protected()
    if mode == GOVERNANCE and not may_bypass(request):
        raise protected()


def bypass_targets(params: Mapping[str, Any]) -> list[Target]:
    """What a request that sends ``x-amz-bypass-governance-retention: true`` needs besides its own
    action, where the IAM engine evaluates it: ``s3:BypassGovernanceRetention`` on each object."""
    if not params.get("BypassGovernanceRetention"):
        return []
    bucket = str(params.get("Bucket", ""))
    objects = (params.get("Delete") or {}).get("Objects") or [{"Key": params.get("Key", "")}]
    return [
        Target(BYPASS_ACTION, f"arn:aws:s3:::{bucket}/{item.get('Key', '')}", {}, (bucket,))
        for item in objects
    ]
