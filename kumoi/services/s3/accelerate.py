"""Put/GetBucketAccelerateConfiguration: the bucket's Transfer Acceleration state.

Acceleration routes uploads through AWS's edge locations; a kumoi server is its own edge, so the
state is kept and reported (``Enabled`` or ``Suspended``) and changes nothing else. As on S3, a
bucket whose name holds a period cannot enable it, and a bucket that never set it answers
without a ``Status``.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base

ATTR = "Accelerate"
STATES = frozenset({"Enabled", "Suspended"})


class AccelerateOperations(S3Base):
    async def put_bucket_accelerate_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        status = (request.get("AccelerateConfiguration") or {}).get("Status")
        if status not in STATES:
            raise errors.malformed_xml()
        if "." in bucket.name:
            raise errors.invalid_request(
                "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"
            )
        await self._set_bucket_setting(bucket, ATTR, status)
        return {}

    async def get_bucket_accelerate_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        status = bucket.config.get(ATTR)
        return {"Status": status} if status is not None else {}
