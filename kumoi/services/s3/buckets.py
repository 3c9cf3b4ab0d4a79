"""Bucket operations and object listings."""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import acl, listing, object_lock, ownership, versioning
from kumoi.services.s3.acl import requested_grants
from kumoi.services.s3.base import S3Base, utc
from kumoi.services.s3.listing_request import ListingRequest
from kumoi.services.s3.names import check_bucket_name
from kumoi.services.s3.owner import owner_of
from kumoi.storage.meta.contract import BucketExists, BucketNotEmpty, BucketRecord

MAX_BUCKETS_PAGE = 10000
US_EAST_1 = "us-east-1"


class BucketOperations(S3Base):
    async def list_buckets(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        limit = int(request.get("MaxBuckets", MAX_BUCKETS_PAGE))
        if not 1 <= limit <= MAX_BUCKETS_PAGE:
            raise ServiceError("InvalidArgument", "MaxBuckets must be between 1 and 10000")
        prefix = str(request.get("Prefix", ""))
        token = request.get("ContinuationToken")
        after = listing.decode_token(token) if token is not None else ""
        region = request.get("BucketRegion")
        records = await self._meta.s3.list_buckets(ctx.account_id, prefix, after, limit + 1)
        if region:
            records = [r for r in records if r.region == region]
        output: dict[str, Any] = {
            "Buckets": [
                {
                    "Name": r.name,
                    "CreationDate": utc(r.created),
                    "BucketRegion": r.region,
                    "BucketArn": f"arn:aws:s3:::{r.name}",
                }
                for r in records[:limit]
            ],
            "Owner": owner_of(ctx.account_id),
        }
        if "Prefix" in request:
            output["Prefix"] = prefix
        if len(records) > limit:
            output["ContinuationToken"] = listing.encode_token(records[limit - 1].name)
        return output

    async def create_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Bucket"]
        check_bucket_name(name)
        constraint = (request.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        region = _bucket_region(constraint, ctx.region)
        record = BucketRecord(
            name=name,
            account_id=ctx.account_id,
            region=region,
            created=self._clock.now(),
            config=_initial_config(request, ctx.account_id, self.default_ownership),
        )
        try:
            await self._meta.s3.create_bucket(record)
        except BucketExists as exists:
            if exists.existing.account_id != ctx.account_id:
                raise ServiceError(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The "
                    "bucket namespace is shared by all users of the system. Please select a "
                    "different name and try again.",
                    status=409,
                    fields={"BucketName": name},
                ) from None
            if exists.existing.region != US_EAST_1:
                raise ServiceError(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    status=409,
                    fields={"BucketName": name},
                ) from None
        return {"Location": f"/{name}", "BucketArn": f"arn:aws:s3:::{name}"}

    async def head_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        return {
            "BucketRegion": bucket.region,
            "AccessPointAlias": False,
            "BucketArn": f"arn:aws:s3:::{bucket.name}",
        }

    async def get_bucket_location(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        return {"LocationConstraint": "" if bucket.region == US_EAST_1 else bucket.region}

    async def delete_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        try:
            await self._meta.s3.delete_bucket(bucket.name)
        except BucketNotEmpty:
            raise ServiceError(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                status=409,
                fields={"BucketName": bucket.name},
            ) from None
        return {}

    async def list_objects_v2(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        args = ListingRequest.of(request)
        token = request.get("ContinuationToken")
        start_after = str(request.get("StartAfter", ""))
        after = listing.decode_token(token) if token is not None else start_after
        with_owner = bool(request.get("FetchOwner"))
        page = await listing.list_page(
            self._meta.s3,
            bucket.name,
            args.prefix,
            args.delimiter,
            after,
            args.max_keys,
            with_owner=with_owner,
        )
        # Members in the order S3 sends them.
        output: dict[str, Any] = {"Name": bucket.name, "Prefix": args.encode(args.prefix)}
        if "StartAfter" in request:
            output["StartAfter"] = args.encode(start_after)
        if token is not None:
            output["ContinuationToken"] = token
        if page.truncated:
            output["NextContinuationToken"] = listing.encode_token(page.last)
        output["KeyCount"] = len(page.objects) + len(page.prefixes)
        output["MaxKeys"] = args.max_keys
        grouping = args.grouping(request, page.prefixes)
        prefixes = grouping.pop("CommonPrefixes", None)
        output.update(grouping)
        output["IsTruncated"] = page.truncated
        if page.objects:
            output["Contents"] = await listing.page_contents(
                self._meta.s3, bucket.name, request, page.objects, args.encode, with_owner, self._clock.now()
            )
        if prefixes:
            output["CommonPrefixes"] = prefixes
        return output

    async def list_objects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        args = ListingRequest.of(request)
        marker = str(request.get("Marker", ""))
        page = await listing.list_page(
            self._meta.s3, bucket.name, args.prefix, args.delimiter, marker, args.max_keys
        )
        output: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": args.encode(args.prefix),
            "Marker": args.encode(marker),
            "MaxKeys": args.max_keys,
            "IsTruncated": page.truncated,
            **args.grouping(request, page.prefixes),
        }
        if page.objects:
            output["Contents"] = await listing.page_contents(
                self._meta.s3, bucket.name, request, page.objects, args.encode, True, self._clock.now()
            )
        if args.delimiter and page.truncated:
            output["NextMarker"] = args.encode(page.last)
        return output


def _bucket_region(constraint: str | None, endpoint_region: str) -> str:
    """The bucket's region: a request signed for us-east-1 stands for the global endpoint, which
    creates buckets in any region; another region's endpoint creates buckets only there."""
    if not constraint:
        if endpoint_region != US_EAST_1:
            raise ServiceError(
                "IllegalLocationConstraintException",
                "The unspecified location constraint is "
                "incompatible for the region specific endpoint this request was sent to.",
            )
        return US_EAST_1
    if constraint == US_EAST_1 and endpoint_region == US_EAST_1:
        raise ServiceError(
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
            fields={"LocationConstraint": constraint},
        )
    if constraint != endpoint_region and endpoint_region != US_EAST_1:
        raise ServiceError(
            "IllegalLocationConstraintException",
            f"The {constraint} location constraint is "
            "incompatible for the region specific endpoint this request was sent to.",
        )
    return constraint


def _initial_config(request: dict[str, Any], owner: str, default: str) -> dict[str, Any]:
    """A new bucket's ownership controls, and its ACL where ACLs are enabled. With the default
    ``BucketOwnerEnforced``, S3 refuses any ACL but ``private`` (its own default)."""
    value = request.get("ObjectOwnership") or default
    if value not in ownership.VALUES:
        raise ServiceError("InvalidArgument", f"Invalid x-amz-object-ownership header: {value}")
    config: dict[str, Any] = {ownership.ATTR: value}
    if request.get("ObjectLockEnabledForBucket"):
        # Object Lock needs versions, so it turns versioning on for good.
        config[object_lock.CONFIG_ATTR] = {"ObjectLockEnabled": "Enabled"}
        config[versioning.ATTR] = {"Status": versioning.ENABLED}
    grants = requested_grants(request, owner, owner, body=False)
    if grants is None or request.get("ACL") == "private":
        return config
    if value == ownership.ENFORCED:
        raise ServiceError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        )
    config[acl.ATTR] = grants
    return config
