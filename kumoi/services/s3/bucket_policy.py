"""Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.

The policy is stored verbatim as the bucket's ``config["Policy"]`` (the text the authorizer
reads, and what GetBucketPolicy returns); validation is in :mod:`kumoi.services.s3.policy_rules`.
With ``BlockPublicPolicy`` on (the default of new buckets, or the account's setting) a public
policy is refused with ``AccessDenied``, as S3 does.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_s3 import STATUS_MEMBER
from kumoi.services.s3 import errors, policy_rules, public_access
from kumoi.services.s3.authz_cache import forget
from kumoi.services.s3.base import S3Base

ATTR = "Policy"
#: What S3 answers a PutBucketPolicy with (the model declares no code; AWS sends 204).
NO_CONTENT = 204


def no_such_policy(bucket: str) -> ServiceError:
    return errors.no_bucket_configuration("NoSuchBucketPolicy", "The bucket policy does not exist", bucket)


def _blocked(ctx: RequestContext, bucket: str) -> ServiceError:
    return ServiceError(
        "AccessDenied",
        f"User: {ctx.caller.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
        f'"arn:aws:s3:::{bucket}" because public policies are blocked by the BlockPublicPolicy block '
        "public access setting.",
        status=403,
    )


class BucketPolicyOperations(S3Base):
    async def put_bucket_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        text = request.get("Policy")
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        policy_rules.validate(text or "", bucket.name)
        if policy_rules.is_public(text):
            account = await public_access.account_blocks(self._meta, bucket.account_id)
            if public_access.blocks(bucket.config, "BlockPublicPolicy", account):
                raise _blocked(ctx, bucket.name)
        await self._set_bucket_setting(bucket, ATTR, text)
        forget(self._meta, bucket.name)
        return {STATUS_MEMBER: NO_CONTENT}

    async def get_bucket_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        policy = bucket.config.get(ATTR)
        if not isinstance(policy, str):
            raise no_such_policy(bucket.name)
        return {"Policy": policy}

    async def get_bucket_policy_status(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        policy = bucket.config.get(ATTR)
        if not isinstance(policy, str):
            raise no_such_policy(bucket.name)
        return {"PolicyStatus": {"IsPublic": policy_rules.is_public(policy)}}

    async def delete_bucket_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        if ATTR in bucket.config:
            await self._remove_bucket_setting(bucket, ATTR)
            forget(self._meta, bucket.name)
        return {}
