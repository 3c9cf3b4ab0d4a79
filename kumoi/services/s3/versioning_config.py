"""Put/GetBucketVersioning: the bucket's versioning state (see :mod:`kumoi.services.s3.versioning`).

MFA delete is kept as configuration (its status is stored and returned); kumoi does not ask for
an MFA code on deletes.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors, object_lock
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.versioning import ATTR, MFA_DELETE, STATUSES, SUSPENDED


class VersioningOperations(S3Base):
    async def put_bucket_versioning(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        wanted = request.get("VersioningConfiguration") or {}
        current = dict(bucket.config.get(ATTR) or {})
        state = wanted.get("Status")
        if state is not None:
            if state not in STATUSES:
                raise errors.malformed_xml()
            if state == SUSPENDED and object_lock.enabled(bucket):
                raise ServiceError(
                    "InvalidBucketState",
                    "An Object Lock configuration is present on this bucket, so the versioning "
                    "state cannot be changed.",
                    status=409,
                )
            current["Status"] = state
        mfa_delete = wanted.get("MFADelete")
        if mfa_delete is not None:
            if mfa_delete not in MFA_DELETE:
                raise errors.malformed_xml()
            current["MFADelete"] = mfa_delete
        if current:
            await self._set_bucket_setting(bucket, ATTR, current)
        return {}

    async def get_bucket_versioning(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = bucket.config.get(ATTR) or {}
        return {member: config[member] for member in ("Status", "MFADelete") if member in config}
