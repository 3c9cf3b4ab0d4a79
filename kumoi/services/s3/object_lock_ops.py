"""Object Lock operations: the bucket's configuration, and a version's retention and legal hold
(rules in :mod:`kumoi.services.s3.object_lock`).

A retention change is written with a compare-and-set on the lock it was judged against, so two
racing changes cannot together weaken a lock neither could weaken alone.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors, object_lock, versioning
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.object_lock import COMPLIANCE, GOVERNANCE, LEGAL_HOLD, MODE, RETAIN_UNTIL
from kumoi.services.s3.periods import MAX_PERIOD_DAYS
from kumoi.storage.meta.contract import BucketRecord, ConditionFailed, ObjectMissing, ObjectRecord

#: Attempts at a retention change that keeps finding the lock changed under it.
UPDATE_ATTEMPTS = 5


def _configuration(wanted: dict[str, Any]) -> dict[str, Any]:
    """A validated ObjectLockConfiguration, as it is stored and returned."""
    if wanted.get("ObjectLockEnabled") != "Enabled":
        raise errors.malformed_xml()
    config: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    rule = wanted.get("Rule")
    if rule is None:
        return config
    retention = rule.get("DefaultRetention")
    if not retention or "Mode" not in retention:
        raise errors.malformed_xml()
    if ("Days" in retention) == ("Years" in retention):
        raise errors.malformed_xml()
    if retention["Mode"] not in object_lock.MODES:
        raise errors.malformed_xml()
    period = "Days" if "Days" in retention else "Years"
    if int(retention[period]) <= 0:
        raise errors.invalid_argument(
            "Default retention period must be a positive integer value.", period, str(retention[period])
        )
    days = int(retention[period]) * (1 if period == "Days" else object_lock.YEAR_DAYS)
    if days > MAX_PERIOD_DAYS:
        raise errors.invalid_argument(
            f"Default retention period must be no longer than {MAX_PERIOD_DAYS} days.",
            period,
            str(retention[period]),
        )
    config["Rule"] = {"DefaultRetention": {"Mode": retention["Mode"], period: int(retention[period])}}
    return config


def _weakens(old: dict[str, Any], mode: str | None, until: float | None) -> bool:
    """Would setting (``mode``, ``until``) shorten, remove or relax the retention in ``old``?"""
    if mode is None or until is None:
        return True
    if until < float(old[RETAIN_UNTIL]):
        return True
    return old[MODE] == COMPLIANCE and mode == GOVERNANCE


class ObjectLockOperations(S3Base):
    async def put_object_lock_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = _configuration(request.get("ObjectLockConfiguration") or {})
        if not object_lock.enabled(bucket) and versioning.status(bucket) != versioning.ENABLED:
            raise ServiceError(
                "InvalidBucketState",
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                status=409,
            )
        await self._set_bucket_setting(bucket, object_lock.CONFIG_ATTR, config)
        return {}

    async def get_object_lock_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = bucket.config.get(object_lock.CONFIG_ATTR)
        if not config:
            raise errors.no_bucket_configuration(
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
                bucket.name,
            )
        return {"ObjectLockConfiguration": config}

    async def _locked_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> tuple[BucketRecord, ObjectRecord]:
        """The bucket (which must have Object Lock) and the version a lock request names."""
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        if not object_lock.enabled(bucket):
            raise object_lock.missing_configuration()
        return bucket, record

    async def put_object_retention(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        retention = request.get("Retention") or {}
        mode = retention.get("Mode")
        if (mode is None) != ("RetainUntilDate" not in retention):
            raise errors.malformed_xml()
        for _attempt in range(UPDATE_ATTEMPTS):
            bucket, record = await self._locked_version(ctx, request)
            now = self._clock.now()
            until = None
            if mode is not None:
                object_lock.check_mode(str(mode), "Mode")
                until = object_lock.retain_until(retention["RetainUntilDate"], now)
            old = {MODE: record.attrs.get(MODE), RETAIN_UNTIL: record.attrs.get(RETAIN_UNTIL)}
            in_force = object_lock.retained(record.attrs, now)
            weakened = in_force is not None and _weakens(old, mode, until)
            if weakened and (in_force == COMPLIANCE or not object_lock.may_bypass(request)):
                raise object_lock.protected()
            try:
                await self._meta.s3.patch_version_attrs(
                    bucket.name, record.key, record.version_id, {MODE: mode, RETAIN_UNTIL: until}, expect=old
                )
            except ObjectMissing:
                raise versioning.no_such_version(record.key, versioning.wire_id(record.version_id)) from None
            except ConditionFailed:
                continue
            return {}
        raise errors.conditional_conflict()

    async def get_object_retention(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _bucket, record = await self._locked_version(ctx, request)
        members = object_lock.output_members(record.attrs)
        if "ObjectLockMode" not in members:
            raise object_lock.no_lock_on_object()
        return {
            "Retention": {
                "Mode": members["ObjectLockMode"],
                "RetainUntilDate": members["ObjectLockRetainUntilDate"],
            }
        }

    async def put_object_legal_hold(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        status = (request.get("LegalHold") or {}).get("Status")
        if status not in object_lock.LEGAL_HOLD_VALUES:
            raise errors.malformed_xml()
        bucket, record = await self._locked_version(ctx, request)
        try:
            await self._meta.s3.patch_version_attrs(
                bucket.name, record.key, record.version_id, {LEGAL_HOLD: status}
            )
        except ObjectMissing:
            raise versioning.no_such_version(record.key, versioning.wire_id(record.version_id)) from None
        return {}

    async def get_object_legal_hold(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _bucket, record = await self._locked_version(ctx, request)
        status = record.attrs.get(LEGAL_HOLD)
        if status is None:
            raise object_lock.no_lock_on_object()
        return {"LegalHold": {"Status": status}}
