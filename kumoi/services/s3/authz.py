"""S3's authorization map: the IAM action, resource ARN and condition keys of each operation.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for Amazon
S3"). Buckets are ``arn:aws:s3:::<bucket>``, objects ``arn:aws:s3:::<bucket>/<key>``; several
operations share an action (``HeadObject`` is ``s3:GetObject``, ``DeleteBucketCors`` is
``s3:PutBucketCORS``), a few need two (``CopyObject`` reads the source and writes the target),
and ``DeleteObjects`` is checked per key, as S3 does. Condition keys: ``s3:prefix``,
``s3:delimiter``, ``s3:max-keys``, ``s3:x-amz-acl``, ``s3:VersionId``, ``s3:x-amz-copy-source``,
``s3:x-amz-metadata-directive``, ``s3:x-amz-server-side-encryption``, ``s3:x-amz-storage-class``.
The bucket policy is the bucket's ``config["Policy"]`` (the document's text, as Block Public
Access lets it apply), its tags ``config["Tags"]``; where ACLs are enabled, the bucket's and the
object's grants are evaluated with the policy (:mod:`kumoi.services.s3.acl_access`), and every
target carries the signed caller's canonical user id for them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import object_lock, versioning
from kumoi.services.s3.acl_access import ATTR as acl_attr
from kumoi.services.s3.acl_access import CANONICAL_KEY, OBJECT_ACL_ACTIONS, combined, object_owner, statements
from kumoi.services.s3.authz_cache import cache_of
from kumoi.services.s3.owner import canonical_id
from kumoi.services.s3.ownership import acls_enabled
from kumoi.services.s3.public_access import account_blocks, blocks, effective_policy
from kumoi.storage.meta.contract import MetadataStore, ObjectRecord

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


def _context(ctx: RequestContext, params: Mapping[str, Any]) -> dict[str, list[str]]:
    operation = ctx.operation
    keys = {
        _KEYS[member]: [str(value)]
        for member, value in params.items()
        if member in _KEYS and value is not None
    }
    if ctx.account_id:
        keys[CANONICAL_KEY] = [canonical_id(ctx.account_id)]
    if operation in _LISTINGS:
        for member, name in _LIST_KEYS.items():
            keys[name] = [str(params.get(member, "1000" if member == "MaxKeys" else ""))]
    return keys


def _judged_owner(target: Target, writer: str, bucket_owner: str) -> str:
    """The account a read of an object (or of its ACL) is judged against. An object another
    account wrote is that account's, so everyone else, the bucket owner included, is a stranger
    to it whom only its grants let in; its writer is a stranger to the bucket, let in by its own
    grant (``FULL_CONTROL``) on the object."""
    if writer == bucket_owner or target.context.get(CANONICAL_KEY) == [canonical_id(writer)]:
        return bucket_owner
    return writer


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
    context = _context(ctx, params)
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
        version = params.get("VersionId")
        at = locator if version is None else (bucket, str(version))
        found = [Target(action, object_arn(bucket, str(params.get("Key", ""))), context, at)]
        source = _copy_source(str(params["CopySource"])) if params.get("CopySource") else None
        if source is not None:
            read = "s3:GetObjectVersion" if source[2] else "s3:GetObject"
            reading = {CANONICAL_KEY: context[CANONICAL_KEY]} if CANONICAL_KEY in context else {}
            at = (source[0],) if source[2] is None else (source[0], source[2])
            found.append(Target(read, object_arn(source[0], source[1]), reading, at))
        return found
    action = _BUCKET_ACTIONS.get(operation, f"s3:{operation}")
    return [Target(action, bucket_arn(bucket), context, locator)]


def listing_target(ctx: RequestContext, bucket: str) -> Target:
    """``s3:ListBucket`` on ``bucket`` for the caller of ``ctx`` (S3 asks it before it says that a
    key does not exist)."""
    context = {CANONICAL_KEY: [canonical_id(ctx.account_id)]} if ctx.account_id else {}
    return Target("s3:ListBucket", bucket_arn(bucket), context, (bucket,))


@dataclass(frozen=True, slots=True)
class _BucketFacts:
    """What the authorizer read of one bucket: the facts for targets its ACL alone decides, and
    what object targets need to add their object's ACL (where ACLs are enabled)."""

    facts: ResourceFacts
    policy: str | None
    acls_enabled: bool
    ignore_public_acls: bool
    bucket_statements: tuple[str, ...]


class S3Authz:
    """Reads bucket policies, ACLs, owners and tags for the authorizer.

    A bucket's facts are kept for :data:`FACTS_TTL_SECONDS`, so a burst of requests to one bucket
    costs one metadata read, not one per request (the S3 operation itself reads the bucket too);
    the operations that change them drop the entry (:mod:`kumoi.services.s3.authz_cache`), so
    within one process a change applies at once. Where ACLs are enabled (the bucket is not
    ``BucketOwnerEnforced``), the bucket's grants join its policy as statements
    (:mod:`kumoi.services.s3.acl_access`), and a target an object's ACL can allow reads the
    object's grants too (never cached: they are per object).
    """

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta
        self._facts = cache_of(meta)

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        return targets(ctx, params) + object_lock.bypass_targets(params)

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        bucket = target.locator[0]
        entry = await self._bucket(bucket)
        if entry is None:
            return ResourceFacts()
        prefix = bucket_arn(bucket) + "/"
        if (
            not entry.acls_enabled
            or not target.resource.startswith(prefix)
            or target.action.lower() not in OBJECT_ACL_ACTIONS
        ):
            return entry.facts
        record = await self._object(bucket, target.resource[len(prefix) :], target.locator[1:])
        if record is None:
            return entry.facts
        owner = _judged_owner(target, object_owner(record.attrs, entry.facts.owner), entry.facts.owner)
        found = statements(
            record.attrs.get(acl_attr) or (),
            on_object=True,
            resource=prefix + "*",
            owner=owner,
            ignore_public=entry.ignore_public_acls,
        )
        policy = combined(entry.policy, entry.bucket_statements + found)
        return ResourceFacts(policy, owner, entry.facts.tags)

    async def _object(self, bucket: str, key: str, version: tuple[str, ...]) -> ObjectRecord | None:
        """The version a target names (its grants are the version's own), or the current one."""
        if not version:
            return await self._meta.s3.get_object(bucket, key)
        try:
            wanted = versioning.requested_id(version[0])
        except ServiceError:
            return None  # the operation answers the invalid id
        record = await self._meta.s3.get_version(bucket, key, wanted)
        return None if record is None or record.delete_marker else record

    async def _bucket(self, bucket: str) -> _BucketFacts | None:
        now = time.monotonic()
        cached = self._facts.get(bucket)
        if cached is not None and cached[0] > now:
            found: _BucketFacts | None = cached[1]
            return found
        found = await self._read(bucket)
        if len(self._facts) >= FACTS_CACHE_MAX:
            self._facts.clear()
        self._facts[bucket] = (now + FACTS_TTL_SECONDS, found)
        return found

    async def _read(self, bucket: str) -> _BucketFacts | None:
        record = await self._meta.s3.get_bucket(bucket)
        if record is None:
            return None
        config = record.config
        owner = record.account_id
        tags = dict(config.get("Tags") or {})
        account = await account_blocks(self._meta, owner)
        policy = effective_policy(config, owner, account)
        enabled = acls_enabled(config)
        ignore = blocks(config, "IgnorePublicAcls", account)
        extra: tuple[str, ...] = ()
        if enabled:
            grants = config.get(acl_attr) or []
            arn = bucket_arn(bucket)
            extra = statements(
                grants, on_object=False, resource=[arn, arn + "/*"], owner=owner, ignore_public=ignore
            )
        facts = ResourceFacts(combined(policy, extra), owner, tags)
        return _BucketFacts(facts, policy, enabled, ignore, extra)
