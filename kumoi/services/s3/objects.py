"""PutObject, GetObject, HeadObject, DeleteObject and DeleteObjects."""

from __future__ import annotations

from typing import Any

from kumoi.core.checksums import Digests
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BodyStream, BytesBody
from kumoi.services.s3 import checksums, conditions, encryption, errors, object_lock, tagging, versioning
from kumoi.services.s3.acl import check_owner_access, checked_write_acl
from kumoi.services.s3.archive import archive_after_write, readable
from kumoi.services.s3.attributes import lifecycle_members, object_attrs, object_headers
from kumoi.services.s3.base import INLINE_MAX, etag_of, read_all
from kumoi.services.s3.content import open_range, part_span
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.services.s3.ranges import ByteRange, parse_range
from kumoi.services.s3.versioned_deletes import VersionedDeletes
from kumoi.storage.meta.contract import (
    BucketMissing,
    ConditionFailed,
    ObjectMissing,
    ObjectRecord,
    PutCondition,
    S3EventRow,
)

#: The largest single PUT S3 accepts.
MAX_PUT_SIZE = 5 * 1024**3
#: Keys one DeleteObjects request may name.
MAX_DELETE_KEYS = 1000


class ObjectOperations(VersionedDeletes):
    async def put_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        acl_attrs = await checked_write_acl(self._meta, bucket, request, ctx.account_id, body=False)
        key = request["Key"]
        body: BodyStream = request.get("Body") or BytesBody(b"")
        size = body.content_length
        if size is None:
            raise ServiceError(
                "MissingContentLength", "You must provide the Content-Length HTTP header.", status=411
            )
        if size > MAX_PUT_SIZE:
            raise errors.entity_too_large(size, MAX_PUT_SIZE)
        condition = conditions.write_condition(request)
        tags = tagging.from_header(request["Tagging"]) if "Tagging" in request else None
        trailer = checksums.trailer_algorithms(body)
        checksums.check_sent(request, trailer)
        algorithms = checksums.requested(request, trailer)
        # Validate everything the request says before reading its body.
        object_attrs(request, {}, ctx.account_id, tags)
        lock = object_lock.write_attrs(bucket, request, self._clock.now())
        object_lock.check_integrity(request, lock)
        chosen = self.write_encryption(ctx, bucket, request)
        sealer = self.sealer(chosen)
        now = self._clock.now()
        if size <= INLINE_MAX:
            data = await read_all(body, size)
            digests = Digests(algorithms)
            digests.update_on_loop(data)
            md5 = digests.md5()
            stored = _verified(request, body, md5, digests.checksums())
            inline = data if sealer is None else sealer.seal_all(data)
            record = ObjectRecord(bucket.name, key, size, etag_of(md5), now, inline=inline)
        else:
            info = await self.write_body(body, size, algorithms, sealer)
            try:
                stored = _verified(request, body, info.md5, info.checksums)
            except BaseException:
                await self.discard_blob(info.blob_id)
                raise
            record = ObjectRecord(bucket.name, key, info.size, etag_of(info.md5), now, blob_id=info.blob_id)
        record.attrs = object_attrs(request, stored, ctx.account_id, tags)
        record.attrs[encryption.ATTR] = chosen.attr
        record.attrs.update(lock)
        record.attrs.update(acl_attrs)
        versioned = versioning.assign(bucket, record)
        await self.store_object(
            record,
            condition,
            events=self.events_for(ctx, bucket, "s3:ObjectCreated:Put", record),
            versioned=versioned,
        )
        output: dict[str, Any] = {"ETag": record.etag, "Size": record.size}
        output.update(versioning.shown_id(bucket, record.version_id))
        output.update(lifecycle_members(bucket.config, record))
        output.update(checksums.output_members(stored))
        output.update(encryption.output_members(chosen.attr))
        return output

    async def store_object(
        self,
        record: ObjectRecord,
        condition: PutCondition | None,
        *,
        owns_blob: bool = True,
        events: list[S3EventRow] | None = None,
        versioned: bool = False,
    ) -> None:
        """Commit ``record`` with its event notifications ``events`` (``versioned``: keeping the
        version it supersedes); on failure, its new blob (if ``owns_blob``) is discarded."""
        try:
            if condition is None:
                await self._meta.s3.put_object(record, events=events or (), versioned=versioned)
            else:
                await self._meta.s3.put_object_if(record, condition, events=events or (), versioned=versioned)
        except BaseException as exc:
            if owns_blob and record.blob_id is not None:
                await self.discard_blob(record.blob_id)
            if isinstance(exc, BucketMissing):
                raise errors.no_such_bucket(record.bucket) from None
            if isinstance(exc, ObjectMissing):
                raise errors.no_such_key(record.key) from None
            if isinstance(exc, ConditionFailed):
                raise errors.precondition_failed(str(exc) or "If-Match") from None
            raise
        if events:
            self._events.submit(events)
        await archive_after_write(self._meta, self._blobs, record)

    async def get_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        await check_owner_access(ctx, bucket, record)
        record = readable(record, self._clock.now())
        unseal = self.unseal(record, request)
        conditions.check_read(request, record)
        output = object_headers(record, request)
        output.update(versioning.shown_id(bucket, record.version_id))
        output.update(object_lock.output_members(record.attrs))
        output.update(lifecycle_members(bucket.config, record, current="VersionId" not in request))
        byte_range = _requested_range(request, record, output)
        if byte_range is None:
            offset, length = 0, record.size
        else:
            offset, length = byte_range.start, byte_range.length
            output["ContentRange"] = byte_range.content_range(record.size)
        output["ContentLength"] = length
        output["Body"] = await open_range(self._blobs, record, offset, length, unseal)
        return output

    async def head_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        await check_owner_access(ctx, bucket, record)
        self.unseal(record, request)
        conditions.check_read(request, record)
        output = object_headers(record, request)
        output.update(versioning.shown_id(bucket, record.version_id))
        output.update(object_lock.output_members(record.attrs))
        output.update(lifecycle_members(bucket.config, record, current="VersionId" not in request))
        byte_range = _requested_range(request, record, output)
        if byte_range is None:
            output["ContentLength"] = record.size
        else:
            output["ContentLength"] = byte_range.length
            output["ContentRange"] = byte_range.content_range(record.size)
        return output

    async def delete_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        if "IfMatch" in request:
            current = await self._meta.s3.get_object(bucket.name, request["Key"])
            if current is None:
                raise errors.no_such_key(request["Key"])
            if not conditions.etag_matches(request["IfMatch"], current.etag):
                raise errors.precondition_failed("If-Match")
        if "VersionId" in request or versioning.status(bucket) is not None:
            return await self.delete_versioned(ctx, bucket, request)
        events = self._events.prepare(ctx, bucket, "s3:ObjectRemoved:Delete", ObjectFacts(request["Key"]))
        if await self._meta.s3.delete_object(bucket.name, request["Key"], events=events) is not None:
            self._events.submit(events)
        return {}

    async def delete_objects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        delete = request.get("Delete") or {}
        entries: list[dict[str, Any]] = delete.get("Objects") or []
        if not entries:
            raise errors.malformed_xml()
        if len(entries) > MAX_DELETE_KEYS:
            raise errors.malformed_xml()
        keys: list[str] = []
        failures: list[dict[str, str]] = []
        accepted: list[dict[str, Any]] = []
        for entry in entries:
            key = entry.get("Key")
            if key is None:
                raise errors.malformed_xml()
            if len(key.encode("utf-8")) > 1024:
                failures.append({"Key": key, "Code": "KeyTooLongError", "Message": "Your key is too long"})
                continue
            keys.append(key)
            accepted.append(entry)
        deleted: list[dict[str, Any]]
        if versioning.status(bucket) is not None or any("VersionId" in entry for entry in accepted):
            deleted, refused = await self.delete_many_versioned(ctx, bucket, request, accepted)
            failures += refused
        else:
            events = self._events.prepare_each(ctx, bucket, "s3:ObjectRemoved:Delete", keys)
            await self._meta.s3.delete_objects(bucket.name, keys, events=events)
            for rows in events.values():
                self._events.submit(rows)
            # S3 reports a key as deleted whether or not it existed.
            deleted = [{"Key": key} for key in keys]
        output: dict[str, Any] = {}
        if not delete.get("Quiet"):
            output["Deleted"] = deleted
        if failures:
            output["Errors"] = failures
        return output


def _verified(
    request: dict[str, Any], body: BodyStream, md5: bytes, digests: dict[str, bytes]
) -> dict[str, str]:
    checksums.verify_content_md5(request.get("ContentMD5"), md5)
    trailers: dict[str, str] = getattr(body, "trailers", None) or {}
    return checksums.verify(digests, checksums.expected_values(request, trailers))


def _requested_range(
    request: dict[str, Any], record: ObjectRecord, output: dict[str, Any]
) -> ByteRange | None:
    """The range a GET/HEAD asks for, by ``Range`` or ``partNumber``; fixes up the output members."""
    number = request.get("PartNumber")
    if number is not None:
        if "Range" in request:
            raise errors.invalid_request("Cannot specify both Range header and partNumber query parameter")
        span = part_span(record, int(number))
        if span is None:
            if number < 1:
                raise errors.invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
                )
            raise ServiceError("InvalidPartNumber", "The requested partnumber is not satisfiable", status=416)
        if record.manifest is not None:
            output["PartsCount"] = len(record.manifest)
            _drop_checksums(output)
        if record.manifest is None and span.size == record.size:
            return None
        return ByteRange(span.start, span.start + span.size - 1) if span.size else None
    byte_range = parse_range(request.get("Range"), record.size)
    if byte_range is not None:
        _drop_checksums(output)
    return byte_range


def _drop_checksums(output: dict[str, Any]) -> None:
    """A part of an object has no whole-object checksum to show."""
    for member in checksums.MEMBERS.values():
        output.pop(member, None)
    output.pop("ChecksumType", None)
