"""Put/Get/DeleteBucketOwnershipControls: who owns the objects written into a bucket.

New buckets are ``BucketOwnerEnforced`` (ACLs disabled, the bucket owner owns every object), as
on AWS since April 2023, unless the server is told otherwise (``--default-object-ownership``); a
bucket whose config has no ``OwnershipControls`` entry answers ``BucketOwnerEnforced``.
DeleteBucketOwnershipControls stores ``None``: Get then answers
``OwnershipControlsNotFoundError`` and the bucket behaves as ``ObjectWriter`` (ACLs enabled), the
behaviour of a bucket without ownership controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors
from kumoi.services.s3.authz_cache import forget
from kumoi.services.s3.base import S3Base

ATTR = "OwnershipControls"
ENFORCED = "BucketOwnerEnforced"
PREFERRED = "BucketOwnerPreferred"
WRITER = "ObjectWriter"
VALUES = frozenset({ENFORCED, PREFERRED, WRITER})


def controls(config: Mapping[str, Any]) -> str | None:
    """The bucket's ObjectOwnership setting; None when its controls were deleted."""
    if ATTR not in config:
        return ENFORCED
    value = config[ATTR]
    return value if isinstance(value, str) else None


def acls_enabled(config: Mapping[str, Any]) -> bool:
    return controls(config) != ENFORCED


class OwnershipOperations(S3Base):
    async def put_bucket_ownership_controls(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rules = (request.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in VALUES:
            raise errors.malformed_xml()
        await self._set_bucket_setting(bucket, ATTR, rules[0]["ObjectOwnership"])
        forget(self._meta, bucket.name)
        return {}

    async def get_bucket_ownership_controls(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        value = controls(bucket.config)
        if value is None:
            raise errors.no_bucket_configuration(
                "OwnershipControlsNotFoundError", "The bucket ownership controls were not found", bucket.name
            )
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": value}]}}

    async def delete_bucket_ownership_controls(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._set_bucket_setting(bucket, ATTR, None)
        forget(self._meta, bucket.name)
        return {}
