"""Put/GetBucketLogging: where a bucket's server access logs are to go, checked as S3 checks it.

The target bucket must exist, belong to the same account and live in the same region. An empty
``BucketLoggingStatus`` turns logging off. kumoi keeps the configuration for the API; it writes
no access log objects yet.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base

ATTR = "Logging"


def _invalid_target(message: str, target: str) -> ServiceError:
    return ServiceError("InvalidTargetBucketForLogging", message, fields={"TargetBucket": target})


class LoggingOperations(S3Base):
    async def put_bucket_logging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        enabled = (request.get("BucketLoggingStatus") or {}).get("LoggingEnabled")
        if enabled is None:
            await self._remove_bucket_setting(bucket, ATTR)
            return {}
        name = enabled.get("TargetBucket")
        if not name or enabled.get("TargetPrefix") is None:
            raise errors.malformed_xml()
        target = await self._meta.s3.get_bucket(name)
        if target is None:
            raise _invalid_target("The target bucket for logging does not exist", name)
        if target.account_id != bucket.account_id:
            raise _invalid_target(
                "The owner for the bucket to be logged and the target bucket must be the same.", name
            )
        if target.region != bucket.region:
            raise ServiceError(
                "CrossLocationLoggingProhibitted",
                "Cross S3 location logging not allowed. ",
                status=403,
                fields={"TargetBucketLocation": target.region},
            )
        await self._set_bucket_setting(bucket, ATTR, dict(enabled))
        return {}

    async def get_bucket_logging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        enabled = bucket.config.get(ATTR)
        return {"LoggingEnabled": enabled} if enabled is not None else {}
