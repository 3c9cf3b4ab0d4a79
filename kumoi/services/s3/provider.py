"""The S3 provider: buckets and objects, with S3's rules, on the metadata and blob stores.

Small objects (up to :data:`INLINE_MAX`) live inline in the metadata store, so a small PUT costs
one group-committed metadata write. Larger objects stream into the blob store under a write
intent that the object record's commit clears (start-up recovery deletes blobs of intents left
behind by a crash), so a crash never leaves a half-written object visible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kumoi.core.checksums import Digests
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BodyStream, BytesBody
from kumoi.services.s3 import checksums, listing
from kumoi.services.s3.names import check_bucket_name
from kumoi.services.s3.owner import owner_of
from kumoi.services.s3.ranges import parse_range
from kumoi.storage.blob.contract import BlobInfo, BlobStore
from kumoi.storage.meta.contract import (
    BucketExists,
    BucketMissing,
    BucketNotEmpty,
    BucketRecord,
    MetadataStore,
    ObjectRecord,
)

INLINE_MAX = 64 * 1024
MAX_PUT_SIZE = 5 * 1024**3
MAX_USER_METADATA = 2 * 1024
MAX_BUCKETS_PAGE = 10000
US_EAST_1 = "us-east-1"
_CHUNK = 1 << 20
_CONTENT_MEMBERS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
_RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseExpires": "Expires",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
}


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _etag(md5: bytes) -> str:
    return f'"{md5.hex()}"'


class S3Provider:
    def __init__(self, meta: MetadataStore, blobs: BlobStore, clock: Clock) -> None:
        self._meta = meta
        self._blobs = blobs
        self._clock = clock

    # Buckets

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
                    "CreationDate": _utc(r.created),
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
        record = BucketRecord(name=name, account_id=ctx.account_id, region=region, created=self._clock.now())
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

    # Listing

    async def list_objects_v2(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        encode = listing.encoder_for(request)
        max_keys = listing.max_keys_of(request)
        prefix = str(request.get("Prefix", ""))
        delimiter = str(request.get("Delimiter", ""))
        token = request.get("ContinuationToken")
        start_after = str(request.get("StartAfter", ""))
        after = listing.decode_token(token) if token is not None else start_after
        page = await listing.list_page(self._meta.s3, bucket.name, prefix, delimiter, after, max_keys)
        output: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "MaxKeys": max_keys,
            "KeyCount": len(page.objects) + len(page.prefixes),
            "IsTruncated": page.truncated,
        }
        if page.objects:
            output["Contents"] = listing.contents(page.objects, encode, bool(request.get("FetchOwner")))
        if page.prefixes:
            output["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if delimiter:
            output["Delimiter"] = encode(delimiter)
        if "EncodingType" in request:
            output["EncodingType"] = request["EncodingType"]
        if token is not None:
            output["ContinuationToken"] = token
        if "StartAfter" in request:
            output["StartAfter"] = encode(start_after)
        if page.truncated:
            output["NextContinuationToken"] = listing.encode_token(page.last)
        return output

    async def list_objects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        encode = listing.encoder_for(request)
        max_keys = listing.max_keys_of(request)
        prefix = str(request.get("Prefix", ""))
        delimiter = str(request.get("Delimiter", ""))
        marker = str(request.get("Marker", ""))
        page = await listing.list_page(self._meta.s3, bucket.name, prefix, delimiter, marker, max_keys)
        output: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "Marker": encode(marker),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
        }
        if page.objects:
            output["Contents"] = listing.contents(page.objects, encode, with_owner=True)
        if page.prefixes:
            output["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if delimiter:
            output["Delimiter"] = encode(delimiter)
            if page.truncated:
                output["NextMarker"] = encode(page.last)
        if "EncodingType" in request:
            output["EncodingType"] = request["EncodingType"]
        return output

    # Objects

    async def put_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        key = request["Key"]
        metadata: dict[str, str] = request.get("Metadata", {})
        if sum(len(k) + len(v) for k, v in metadata.items()) > MAX_USER_METADATA:
            raise ServiceError(
                "MetadataTooLarge",
                "Your metadata headers exceed the maximum allowed metadata size.",
                fields={
                    "Size": str(sum(len(k) + len(v) for k, v in metadata.items())),
                    "MaxSizeAllowed": str(MAX_USER_METADATA),
                },
            )
        body: BodyStream = request.get("Body") or BytesBody(b"")
        size = body.content_length
        if size is None:
            raise ServiceError(
                "MissingContentLength", "You must provide the Content-Length HTTP header.", status=411
            )
        if size > MAX_PUT_SIZE:
            raise ServiceError(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                fields={"ProposedSize": str(size), "MaxSizeAllowed": str(MAX_PUT_SIZE)},
            )
        algorithms = checksums.requested(request)
        if size <= INLINE_MAX:
            record, stored = await self._inline_record(bucket.name, key, body, size, algorithms, request)
        else:
            record, stored = await self._blob_record(bucket.name, key, body, algorithms, request)
        record.attrs = _object_attrs(request, metadata, stored, ctx.account_id)
        try:
            await self._meta.s3.put_object(record)
        except BucketMissing:
            raise _no_such_bucket(bucket.name) from None
        output: dict[str, Any] = {"ETag": record.etag, "Size": record.size}
        output.update(checksums.output_members(stored))
        return output

    async def _inline_record(
        self,
        bucket: str,
        key: str,
        body: BodyStream,
        size: int,
        algorithms: list[str],
        request: dict[str, Any],
    ) -> tuple[ObjectRecord, dict[str, str]]:
        parts: list[bytes] = []
        received = 0
        while chunk := await body.read(_CHUNK):
            received += len(chunk)
            if received > size:
                raise ServiceError("IncompleteBody", "The request body is longer than its Content-Length")
            parts.append(chunk)
        data = b"".join(parts)
        if received != size:
            raise ServiceError(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
            )
        digests = Digests(algorithms)
        digests.update(data)
        md5 = digests.md5()
        stored = self._check_digests(request, body, md5, digests.checksums())
        record = ObjectRecord(
            bucket=bucket, key=key, size=size, etag=_etag(md5), last_modified=self._clock.now(), inline=data
        )
        return record, stored

    async def _blob_record(
        self, bucket: str, key: str, body: BodyStream, algorithms: list[str], request: dict[str, Any]
    ) -> tuple[ObjectRecord, dict[str, str]]:
        writer = self._blobs.new_writer(algorithms)
        await self._meta.record_blob_intent(writer.blob_id)
        try:
            info = await self._stream_into(writer, body)
            stored = self._check_digests(request, body, info.md5, info.checksums)
        except BaseException:
            await writer.abort()
            await self._blobs.delete(writer.blob_id)
            await self._meta.clear_blob_intents([writer.blob_id])
            raise
        record = ObjectRecord(
            bucket=bucket,
            key=key,
            size=info.size,
            etag=_etag(info.md5),
            last_modified=self._clock.now(),
            blob_id=info.blob_id,
        )
        return record, stored

    @staticmethod
    async def _stream_into(writer: Any, body: BodyStream) -> BlobInfo:
        expected = body.content_length
        received = 0
        while chunk := await body.read(_CHUNK):
            received += len(chunk)
            await writer.write(chunk)
        if expected is not None and received != expected:
            raise ServiceError(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
            )
        info: BlobInfo = await writer.commit()
        return info

    @staticmethod
    def _check_digests(
        request: dict[str, Any], body: BodyStream, md5: bytes, digests: dict[str, bytes]
    ) -> dict[str, str]:
        checksums.verify_content_md5(request.get("ContentMD5"), md5)
        trailers: dict[str, str] = getattr(body, "trailers", None) or {}
        return checksums.verify(digests, checksums.expected_values(request, trailers))

    async def get_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = await self._object(ctx, request["Bucket"], request["Key"])
        byte_range = parse_range(request.get("Range"), record.size)
        output = self._object_headers(record, request)
        if byte_range is None:
            offset, length = 0, record.size
        else:
            offset, length = byte_range.start, byte_range.length
            output["ContentRange"] = byte_range.content_range(record.size)
            for member in checksums.MEMBERS.values():
                output.pop(member, None)
            output.pop("ChecksumType", None)
        output["ContentLength"] = length
        if record.inline is not None:
            output["Body"] = record.inline[offset : offset + length]
        elif record.blob_id is not None:
            output["Body"] = await self._blobs.open(record.blob_id, offset, length)
        else:
            output["Body"] = b""
        return output

    async def head_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = await self._object(ctx, request["Bucket"], request["Key"])
        output = self._object_headers(record, request)
        output["ContentLength"] = record.size
        return output

    async def delete_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._meta.s3.delete_object(bucket.name, request["Key"])
        return {}

    # Helpers

    def _object_headers(self, record: ObjectRecord, request: dict[str, Any]) -> dict[str, Any]:
        attrs = record.attrs
        output: dict[str, Any] = {
            "ETag": record.etag,
            "LastModified": _utc(record.last_modified),
            "AcceptRanges": "bytes",
            "Metadata": dict(attrs.get("Metadata", {})),
        }
        for member in _CONTENT_MEMBERS:
            if member in attrs:
                output[member] = attrs[member]
        output.setdefault("ContentType", "binary/octet-stream")
        if "Expires" in attrs:
            output["Expires"] = _utc(attrs["Expires"])
        storage_class = attrs.get("StorageClass", "STANDARD")
        if storage_class != "STANDARD":
            output["StorageClass"] = storage_class
        if request.get("ChecksumMode") == "ENABLED":
            output.update(checksums.output_members(attrs.get("Checksums", {})))
        for override, member in _RESPONSE_OVERRIDES.items():
            if override in request:
                output[member] = request[override]
        return output

    async def _bucket(self, ctx: RequestContext, name: str) -> BucketRecord:
        bucket = await self._meta.s3.get_bucket(name)
        if bucket is None:
            raise _no_such_bucket(name)
        if bucket.account_id != ctx.account_id:
            raise ServiceError("AccessDenied", "Access Denied", status=403)
        return bucket

    async def _object(self, ctx: RequestContext, bucket_name: str, key: str) -> ObjectRecord:
        bucket = await self._bucket(ctx, bucket_name)
        record = await self._meta.s3.get_object(bucket.name, key)
        if record is None:
            raise ServiceError(
                "NoSuchKey", "The specified key does not exist.", status=404, fields={"Key": key}
            )
        return record


def _no_such_bucket(name: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucket", "The specified bucket does not exist", status=404, fields={"BucketName": name}
    )


def _bucket_region(constraint: str | None, endpoint_region: str) -> str:
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
    if constraint != endpoint_region:
        raise ServiceError(
            "IllegalLocationConstraintException",
            f"The {constraint} location constraint is "
            "incompatible for the region specific endpoint this request was sent to.",
        )
    return constraint


def _object_attrs(
    request: dict[str, Any], metadata: dict[str, str], stored: dict[str, str], owner: str
) -> dict[str, Any]:
    attrs: dict[str, Any] = {member: request[member] for member in _CONTENT_MEMBERS if member in request}
    if metadata:
        attrs["Metadata"] = metadata
    if "Expires" in request:
        attrs["Expires"] = request["Expires"].timestamp()
    if request.get("StorageClass", "STANDARD") != "STANDARD":
        attrs["StorageClass"] = request["StorageClass"]
    attrs["Checksums"] = stored
    attrs["Owner"] = owner
    return attrs
