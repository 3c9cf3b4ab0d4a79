"""Get/PutBucketAcl and Get/PutObjectAcl.

While a bucket is ``BucketOwnerEnforced`` (the default, see ``ownership.py``) ACLs are disabled,
as on AWS: reads answer the bucket owner with ``FULL_CONTROL``, and a write is accepted only if it
grants exactly that (the ``bucket-owner-full-control`` canned ACL for objects, or the equivalent
``x-amz-grant-full-control`` header or XML body); anything else is
``AccessControlListNotSupported``. With ACLs enabled (``ObjectWriter``, ``BucketOwnerPreferred``
or no ownership controls) the grants are validated and stored (the bucket's ``config["Acl"]``, the
object's ``attrs["Acl"]``) and read back; ``BlockPublicAcls`` (the bucket's or the account's)
refuses grants to the AllUsers and AuthenticatedUsers groups with ``AccessDenied``. The authorizer
enforces stored grants for other accounts and anonymous callers (``acl_access.py``).

:func:`checked_write_acl` is the same rule for writes that carry ACL headers (PutObject,
CopyObject, CreateMultipartUpload), and gives the new object its owner and grants: the writer
owns it (``ObjectWriter``), or the bucket owner where ``BucketOwnerPreferred`` meets the
``bucket-owner-full-control`` canned ACL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors, ownership, public_access, versioning
from kumoi.services.s3.acl_access import ATTR as ATTR
from kumoi.services.s3.acl_access import object_owner
from kumoi.services.s3.authz_cache import forget
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.owner import canonical_id, owner_of
from kumoi.storage.meta.contract import (
    BucketRecord,
    ConditionFailed,
    MetadataStore,
    ObjectMissing,
    ObjectRecord,
)

GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
LOG_DELIVERY = GROUPS + "s3/LogDelivery"
_PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})
_VALID_GROUPS = _PUBLIC_GROUPS | {LOG_DELIVERY}
PERMISSIONS = frozenset({"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"})
#: Request member of each grant header → the permission it grants.
GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_HEADER_NAMES = {
    "GrantFullControl": "x-amz-grant-full-control",
    "GrantRead": "x-amz-grant-read",
    "GrantReadACP": "x-amz-grant-read-acp",
    "GrantWrite": "x-amz-grant-write",
    "GrantWriteACP": "x-amz-grant-write-acp",
}
_GRANT_ITEM = re.compile(r'^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$')
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")
BUCKET_OWNER_FULL_CONTROL = "bucket-owner-full-control"
_MAX_UPDATE_ATTEMPTS = 3


def not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", status=400)


def user_grant(account_id: str, permission: str) -> dict[str, Any]:
    owner = owner_of(account_id)
    return {"Grantee": {"Type": "CanonicalUser", **owner}, "Permission": permission}


def group_grant(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def canned_grants(acl: str, owner: str, bucket_owner: str) -> list[dict[str, Any]]:
    """The grants a canned ACL stands for (``owner`` owns the resource)."""
    grants = [user_grant(owner, "FULL_CONTROL")]
    if acl in ("public-read", "public-read-write"):
        grants.append(group_grant(ALL_USERS, "READ"))
    if acl == "public-read-write":
        grants.append(group_grant(ALL_USERS, "WRITE"))
    if acl == "authenticated-read":
        grants.append(group_grant(AUTHENTICATED_USERS, "READ"))
    if acl == "log-delivery-write":
        grants += [group_grant(LOG_DELIVERY, "WRITE"), group_grant(LOG_DELIVERY, "READ_ACP")]
    if bucket_owner != owner and acl in ("bucket-owner-read", BUCKET_OWNER_FULL_CONTROL):
        permission = "READ" if acl == "bucket-owner-read" else "FULL_CONTROL"
        grants.append(user_grant(bucket_owner, permission))
    return grants


def _header_grants(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    for member, permission in GRANT_HEADERS.items():
        value = request.get(member)
        if value is None:
            continue
        for item in str(value).split(","):
            match = _GRANT_ITEM.match(item)
            if match is None:
                raise errors.invalid_argument("Argument format not recognized", _HEADER_NAMES[member], item)
            kind, target = match.groups()
            grants.append(_grant(kind, target, permission))
    return grants


def _grant(kind: str, target: str, permission: str) -> dict[str, Any]:
    if kind == "id":
        if not _CANONICAL_ID.match(target):
            raise errors.invalid_argument("Invalid id", "CanonicalUser/ID", target)
        return {"Grantee": {"Type": "CanonicalUser", "ID": target}, "Permission": permission}
    if kind == "uri":
        if target not in _VALID_GROUPS:
            raise errors.invalid_argument("Invalid group uri", "uri", target)
        return group_grant(target, permission)
    return {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": target}, "Permission": permission}


def _body_grants(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    for grant in policy.get("Grants") or []:
        grantee = grant.get("Grantee") or {}
        permission = grant.get("Permission")
        if permission not in PERMISSIONS:
            raise errors.malformed_xml()
        kind = grantee.get("Type")
        if kind == "CanonicalUser":
            grants.append(_grant("id", str(grantee.get("ID", "")), permission))
        elif kind == "Group":
            grants.append(_grant("uri", str(grantee.get("URI", "")), permission))
        elif kind == "AmazonCustomerByEmail" and grantee.get("EmailAddress"):
            grants.append(_grant("emailAddress", str(grantee["EmailAddress"]), permission))
        else:
            raise errors.malformed_xml()
    return grants


def requested_grants(
    request: Mapping[str, Any], owner: str, bucket_owner: str, *, body: bool = True
) -> list[dict[str, Any]] | None:
    """The grants a request asks for (canned ACL, grant headers or XML body); None if none."""
    headers = _header_grants(request)
    canned = request.get("ACL")
    if canned is not None and headers:
        raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned is not None:
        return canned_grants(str(canned), owner, bucket_owner)
    if headers:
        return headers
    policy = request.get("AccessControlPolicy") if body else None
    if policy is not None:
        return _body_grants(policy)
    return None


def owner_only(grants: list[dict[str, Any]], bucket_owner: str) -> bool:
    """Whether ``grants`` are exactly ``FULL_CONTROL`` for the bucket owner."""
    me = canonical_id(bucket_owner)
    return bool(grants) and all(
        grant["Grantee"].get("Type") == "CanonicalUser"
        and grant["Grantee"].get("ID") == me
        and grant["Permission"] == "FULL_CONTROL"
        for grant in grants
    )


def is_public(grants: list[dict[str, Any]]) -> bool:
    return any(grant["Grantee"].get("URI") in _PUBLIC_GROUPS for grant in grants)


def check_write_acl(
    bucket: BucketRecord,
    request: Mapping[str, Any],
    *,
    body: bool = True,
    account: Mapping[str, bool] | None = None,
) -> None:
    """Refuse what S3 refuses of a write's ACL on this bucket: any ACL other than the bucket
    owner's full control while ACLs are disabled, a public ACL under ``BlockPublicAcls`` (the
    bucket's, or the account's settings ``account``)."""
    canned = request.get("ACL")
    grants = requested_grants(request, bucket.account_id, bucket.account_id, body=body)
    if grants is None:
        return
    if not ownership.acls_enabled(bucket.config):
        if canned == BUCKET_OWNER_FULL_CONTROL or (canned is None and owner_only(grants, bucket.account_id)):
            return
        raise not_supported()
    if public_access.blocks(bucket.config, "BlockPublicAcls", account) and is_public(grants):
        raise errors.access_denied()


async def checked_write_acl(
    meta: MetadataStore, bucket: BucketRecord, request: Mapping[str, Any], writer: str, *, body: bool = True
) -> dict[str, Any]:
    """:func:`check_write_acl` with the account's Block Public Access settings too (read only
    when the request asks for a public ACL), then :func:`write_acl_attrs`."""
    account = None
    grants = requested_grants(request, bucket.account_id, bucket.account_id, body=body)
    if grants is not None and is_public(grants):
        account = await public_access.account_blocks(meta, bucket.account_id)
    check_write_acl(bucket, request, body=body, account=account)
    return write_acl_attrs(bucket, request, writer)


def write_acl_attrs(bucket: BucketRecord, request: Mapping[str, Any], writer: str) -> dict[str, Any]:
    """The owner and grants a new object gets (members of its attrs) where ACLs are enabled: the
    writer owns it, except that ``BucketOwnerPreferred`` hands objects written with the
    ``bucket-owner-full-control`` canned ACL to the bucket owner; without ACL headers the owner
    alone has ``FULL_CONTROL``. Nothing while ACLs are disabled (the bucket owner owns everything)."""
    setting = ownership.controls(bucket.config)
    if setting == ownership.ENFORCED:
        return {}
    owner = writer
    if setting == ownership.PREFERRED and request.get("ACL") == BUCKET_OWNER_FULL_CONTROL:
        owner = bucket.account_id
    grants = requested_grants(request, owner, bucket.account_id, body=False)
    return {"Owner": owner, ATTR: grants or [user_grant(owner, "FULL_CONTROL")]}


class AclOperations(S3Base):
    async def get_bucket_acl(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        grants = bucket.config.get(ATTR) if ownership.acls_enabled(bucket.config) else None
        return {
            "Owner": owner_of(bucket.account_id),
            "Grants": grants or [user_grant(bucket.account_id, "FULL_CONTROL")],
        }

    async def put_bucket_acl(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        if not ownership.acls_enabled(bucket.config) and request.get("ACL") is not None:
            raise not_supported()
        grants = requested_grants(request, bucket.account_id, bucket.account_id)
        account = None
        if grants is not None and is_public(grants):
            account = await public_access.account_blocks(self._meta, bucket.account_id)
        check_write_acl(bucket, request, account=account)
        if grants is None:
            raise errors.malformed_xml()
        if ownership.acls_enabled(bucket.config):
            await self._set_bucket_setting(bucket, ATTR, grants)
            forget(self._meta, bucket.name)
        return {}

    async def get_object_acl(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        await check_owner_access(ctx, bucket, record)
        owner = _object_owner(bucket, record.attrs)
        grants = record.attrs.get(ATTR) if ownership.acls_enabled(bucket.config) else None
        return {"Owner": owner_of(owner), "Grants": grants or [user_grant(owner, "FULL_CONTROL")]}

    async def put_object_acl(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        version_id = request.get("VersionId")
        bucket, record = await self._bucket_and_version(ctx, request["Bucket"], request["Key"], version_id)
        await check_owner_access(ctx, bucket, record)
        owner = _object_owner(bucket, record.attrs)
        grants = requested_grants(request, owner, bucket.account_id)
        account = None
        if grants is not None and is_public(grants):
            account = await public_access.account_blocks(self._meta, bucket.account_id)
        check_write_acl(bucket, request, account=account)
        if grants is None:
            raise errors.malformed_xml()
        if not ownership.acls_enabled(bucket.config):
            return {}
        if version_id is not None:
            try:
                await self._meta.s3.patch_version_attrs(
                    bucket.name, record.key, record.version_id, {ATTR: grants, "Owner": owner}
                )
            except ObjectMissing:
                raise versioning.no_such_version(record.key, str(version_id)) from None
            return {}
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            attrs = {**record.attrs, ATTR: grants, "Owner": owner}
            try:
                await self._meta.s3.update_object_attrs(bucket.name, record.key, record.etag, attrs)
                return {}
            except ConditionFailed:
                bucket, record = await self._bucket_and_object(ctx, bucket.name, record.key)
            except ObjectMissing:
                raise await self.missing_key(ctx, bucket.name, record.key) from None
        raise errors.conditional_conflict()


def _object_owner(bucket: BucketRecord, attrs: Mapping[str, Any]) -> str:
    """The object's owner: its writer where it was written with ACLs enabled (it then has an
    ACL, see :func:`write_acl_attrs`) and they still are; the bucket owner otherwise."""
    if not ownership.acls_enabled(bucket.config):
        return bucket.account_id
    return object_owner(attrs, bucket.account_id)


async def check_owner_access(ctx: RequestContext, bucket: BucketRecord, record: ObjectRecord) -> None:
    """Refuse the bucket owner a read of an object (or of its ACL) another account owns unless the
    object's grants allow it: on AWS the bucket owner reads only what it owns or is granted. The
    authorizer judges it with the object's owner as resource owner (see
    :mod:`kumoi.services.s3.authz`); this asks it where nothing has yet (IAM not enforced)."""
    if bucket.account_id != ctx.account_id or _object_owner(bucket, record.attrs) == ctx.account_id:
        return
    if not await ctx.foreign_access():
        raise errors.access_denied()
