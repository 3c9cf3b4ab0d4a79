"""S3's authorization map: the IAM action, resource ARN and condition keys of each operation.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for Amazon
S3"). Buckets are ``arn:aws:s3:::<bucket>``, objects ``arn:aws:s3:::<bucket>/<key>``; several
operations share an action (``HeadObject`` is ``s3:GetObject``, ``DeleteBucketCors`` is
``s3:PutBucketCORS``), a few need two (``CopyObject`` reads the source and writes the target),
and ``DeleteObjects`` is checked per key, as S3 does. Condition keys: ``s3:prefix``,
``s3:delimiter``, ``s3:max-keys``, ``s3:x-amz-acl``, ``s3:VersionId``, ``s3:x-amz-copy-source``,
``s3:x-amz-metadata-directive``, ``s3:x-amz-server-side-encryption``, ``s3:x-amz-storage-class``.
The bucket policy is the bucket's ``config["Policy"]`` (the document's text), its tags
``config["Tags"]``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.services.s3.public_access import effective_policy
from kumoi.storage.meta.contract import MetadataStore

#: How long a bucket's policy, owner and tags are reused, and how many buckets are kept.
FACTS_TTL_SECONDS = 1.0
FACTS_CACHE_MAX = 10000

#: Operations whose action differs from ``s3:<Operation>``, and whether they act on an object.
_OBJECT_ACTIONS: dict[str, str] = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "SelectObjectContent": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObjectAttributes",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "DeleteObject": "s3:DeleteObject",
    "GetObjectAcl": "s3:GetObjectAcl",
    "PutObjectAcl": "s3:PutObjectAcl",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "DeleteObjectTagging": "s3:DeleteObjectTagging",
    "GetObjectRetention": "s3:GetObjectRetention",
    "PutObjectRetention": "s3:PutObjectRetention",
    "GetObjectLegalHold": "s3:GetObjectLegalHold",
    "PutObjectLegalHold": "s3:PutObjectLegalHold",
    "RestoreObject": "s3:RestoreObject",
    "GetObjectTorrent": "s3:GetObjectTorrent",
    "RenameObject": "s3:RenameObject",
}
#: Version-specific variants when the request names a version.
_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}
_BUCKET_ACTIONS: dict[str, str] = {
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetBucketAnalyticsConfiguration": "s3:GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "s3:GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "GetBucketInventoryConfiguration": "s3:GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "s3:GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "s3:GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "s3:GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "s3:GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
}
_ACCOUNT_ACTIONS = {"ListBuckets": "s3:ListAllMyBuckets", "ListDirectoryBuckets": "s3:ListAllMyBuckets"}
#: Request members → condition keys, where the request carries them.
_KEYS = {
    "ACL": "s3:x-amz-acl",
    "VersionId": "s3:versionid",
    "CopySource": "s3:x-amz-copy-source",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "StorageClass": "s3:x-amz-storage-class",
}
_LIST_KEYS = {"Prefix": "s3:prefix", "Delimiter": "s3:delimiter", "MaxKeys": "s3:max-keys"}
_LISTINGS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _context(operation: str, params: Mapping[str, Any]) -> dict[str, list[str]]:
    keys = {
        _KEYS[member]: [str(value)]
        for member, value in params.items()
        if member in _KEYS and value is not None
    }
    if operation in _LISTINGS:
        for member, name in _LIST_KEYS.items():
            keys[name] = [str(params.get(member, "1000" if member == "MaxKeys" else ""))]
    return keys


def _copy_source(value: str) -> tuple[str, str, str | None] | None:
    """``bucket/key[?versionId=v]`` (URL-encoded, maybe with a leading slash) → parts."""
    text, _, query = value.lstrip("/").partition("?")
    bucket, slash, key = unquote(text).partition("/")
    if not slash or not bucket or not key:
        return None
    version = query.partition("=")[2] if query.startswith("versionId=") else None
    return bucket, key, version


def targets(ctx: RequestContext, params: Mapping[str, Any]) -> list[Target]:
    operation = ctx.operation
    if operation in _ACCOUNT_ACTIONS:
        return [Target(_ACCOUNT_ACTIONS[operation], "*")]
    bucket = str(params.get("Bucket", ""))
    context = _context(operation, params)
    locator = (bucket,)
    if operation == "CreateBucket":
        return [Target("s3:CreateBucket", bucket_arn(bucket), context, None, ctx.account_id)]
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        found = [
            Target(
                "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject",
                object_arn(bucket, str(item.get("Key", ""))),
                context,
                locator,
            )
            for item in objects
        ]
        return found or [Target("s3:DeleteObject", object_arn(bucket, ""), context, locator)]
    action = _OBJECT_ACTIONS.get(operation)
    if action is not None:
        if params.get("VersionId") is not None:
            action = _VERSIONED.get(action, action)
        found = [Target(action, object_arn(bucket, str(params.get("Key", ""))), context, locator)]
        source = _copy_source(str(params["CopySource"])) if params.get("CopySource") else None
        if source is not None:
            read = "s3:GetObjectVersion" if source[2] else "s3:GetObject"
            found.append(Target(read, object_arn(source[0], source[1]), {}, (source[0],)))
        return found
    action = _BUCKET_ACTIONS.get(operation, f"s3:{operation}")
    return [Target(action, bucket_arn(bucket), context, locator)]


class S3Authz:
    """Reads bucket policies, owners and tags for the authorizer.

    A bucket's facts are kept for :data:`FACTS_TTL_SECONDS`, so a burst of requests to one bucket
    costs one metadata read, not one per request (the S3 operation itself reads the bucket too).
    A bucket policy change therefore takes effect within that time, like AWS's own propagation
    delay for policy changes.
    """

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta
        self._facts: dict[str, tuple[float, ResourceFacts]] = {}

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        return targets(ctx, params)

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        bucket = target.locator[0]
        now = time.monotonic()
        cached = self._facts.get(bucket)
        if cached is not None and cached[0] > now:
            return cached[1]
        facts = await self._read(bucket)
        if len(self._facts) >= FACTS_CACHE_MAX:
            self._facts.clear()
        self._facts[bucket] = (now + FACTS_TTL_SECONDS, facts)
        return facts

    async def _read(self, bucket: str) -> ResourceFacts:
        record = await self._meta.s3.get_bucket(bucket)
        if record is None:
            return ResourceFacts()
        tags = dict(record.config.get("Tags") or {})
        policy = effective_policy(record.config, record.account_id)
        return ResourceFacts(policy, record.account_id, tags)
