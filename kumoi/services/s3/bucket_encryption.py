"""Put/Get/DeleteBucketEncryption: a bucket's default encryption for writes that ask for none.

As on AWS today, every bucket has one: SSE-S3 until PutBucketEncryption sets another, and
DeleteBucketEncryption returns to SSE-S3 (so Get never answers
``ServerSideEncryptionConfigurationNotFoundError``). The rule is kept in the bucket's config as
``{"SSEAlgorithm", "KMSMasterKeyID"?, "BucketKeyEnabled"}``.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import encryption, errors
from kumoi.services.s3.base import S3Base


class BucketEncryptionOperations(S3Base):
    async def put_bucket_encryption(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rules: list[dict[str, Any]] = (request.get("ServerSideEncryptionConfiguration") or {}).get(
            "Rules"
        ) or []
        if len(rules) != 1:
            raise errors.malformed_xml()
        await self._set_bucket_setting(bucket, encryption.ATTR, _rule(rules[0]))
        return {}

    async def get_bucket_encryption(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rule = encryption.default_rule(bucket.config)
        default = {"SSEAlgorithm": rule["SSEAlgorithm"]}
        if "KMSMasterKeyID" in rule:
            default["KMSMasterKeyID"] = rule["KMSMasterKeyID"]
        entry = {
            "ApplyServerSideEncryptionByDefault": default,
            "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
        }
        return {"ServerSideEncryptionConfiguration": {"Rules": [entry]}}

    async def delete_bucket_encryption(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._remove_bucket_setting(bucket, encryption.ATTR)
        return {}


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    """The stored form of one rule, validated as S3 validates it."""
    default = rule.get("ApplyServerSideEncryptionByDefault")
    if not default or default.get("SSEAlgorithm") not in encryption.ALGORITHMS:
        raise errors.malformed_xml()
    algorithm = default["SSEAlgorithm"]
    stored: dict[str, Any] = {
        "SSEAlgorithm": algorithm,
        "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled")),
    }
    key_id = default.get("KMSMasterKeyID")
    if key_id is not None:
        if algorithm == encryption.AES256:
            raise errors.invalid_argument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
                "aws:kms:dsse",
                "ApplyServerSideEncryptionByDefault",
                "null",
            )
        stored["KMSMasterKeyID"] = key_id
    return stored
