"""Multipart uploads: create, upload (and copy) parts, complete, abort, list.

Every part is a blob of its own, written under a write intent that the part's record clears.
Completion copies no data: the object record gets a manifest of the chosen parts' blobs, and the
upload's other parts are queued as garbage, all in one transaction; a GET then streams across
the parts. Its ETag is the MD5 of the concatenated part MD5s followed by ``-<parts>``, its
checksum composite or full-object as :mod:`~kumoi.services.s3.mpu_checksums` computes.

Uploads nobody completes or aborts are kept, as S3 keeps them until a lifecycle rule aborts
them; with the ``upload_expiry_seconds`` setting the periodic
:meth:`MultipartOperations.expire_uploads` aborts those older than that, and their blobs go the
usual garbage way.

Encryption is chosen at creation and kept in the upload's object attributes; every part is sealed
on its own (its own data key). An SSE-C upload needs the same key on every UploadPart.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BodyStream, BytesBody
from kumoi.services.s3 import (
    checksums,
    conditions,
    encryption,
    errors,
    listing,
    mpu_checksums,
    object_lock,
    tagging,
    versioning,
)
from kumoi.services.s3.acl import checked_write_acl
from kumoi.services.s3.archive import archive_after_write
from kumoi.services.s3.attributes import expiration_members, object_attrs
from kumoi.services.s3.base import etag_of, utc
from kumoi.services.s3.content import iter_range
from kumoi.services.s3.copy import CopyOperations
from kumoi.services.s3.owner import owner_of
from kumoi.storage.blob import crypto
from kumoi.storage.meta.contract import (
    BlobPart,
    BucketMissing,
    ConditionFailed,
    ObjectMissing,
    ObjectRecord,
    PartRecord,
    PartsChanged,
    UploadMissing,
    UploadRecord,
)

MIN_PART_NUMBER = 1
MAX_PART_NUMBER = 10000
#: Smallest size of every part but the last.
MIN_PART_SIZE = 5 * 1024 * 1024
#: Largest part.
MAX_PART_SIZE = 5 * 1024**3
MAX_LIST_PARTS = 1000
MAX_LIST_UPLOADS = 1000
#: Uploads aborted per run of the expiry task.
EXPIRY_BATCH = 100
_COPY_RANGE_FORM = (
    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are "
    "the zero-based offsets of the first and last bytes to copy"
)


def _check_part_checksum_type(upload: UploadRecord, sent: list[str]) -> None:
    """A part of an upload created with a checksum algorithm carries that algorithm's checksum
    (``sent``: the one it carries, if any), as S3 requires; a part of a full-object upload may
    carry none. The parts of an upload created without one are not checked: S3 gives those the
    default algorithm, and the SDKs send their own default (CRC32) with every part."""
    if not upload.attrs.get("Declared"):
        return
    expected = upload.attrs["Algorithm"]
    if sent == [expected]:
        return
    if not sent and upload.attrs["ChecksumType"] == mpu_checksums.FULL_OBJECT:
        return
    actual = sent[0] if sent else "null"
    raise errors.invalid_request(
        f"Checksum Type mismatch occurred, expected checksum Type: {expected}, actual checksum Type: {actual}"
    )


def _new_upload_id() -> str:
    return secrets.token_urlsafe(48)


class MultipartOperations(CopyOperations):
    async def create_multipart_upload(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        acl_attrs = await checked_write_acl(self._meta, bucket, request, ctx.account_id, body=False)
        declared = request.get("ChecksumAlgorithm")
        requested_type = request.get("ChecksumType")
        if declared is None and requested_type is not None:
            raise errors.invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )
        algorithm = checksums.requested({"ChecksumAlgorithm": declared} if declared else {})[0]
        checksum_type = mpu_checksums.checksum_type(algorithm, requested_type)
        tags = tagging.from_header(request["Tagging"]) if "Tagging" in request else None
        attrs = object_attrs(request, {}, ctx.account_id, tags)
        chosen = self.write_encryption(ctx, bucket, request)
        attrs[encryption.ATTR] = chosen.attr
        attrs.update(object_lock.write_attrs(bucket, request, self._clock.now()))
        attrs.update(acl_attrs)
        upload = UploadRecord(
            upload_id=_new_upload_id(),
            bucket=bucket.name,
            key=request["Key"],
            initiated=self._clock.now(),
            attrs={
                "Object": attrs,
                "Algorithm": algorithm,
                "ChecksumType": checksum_type,
                "Declared": declared is not None,
            },
        )
        try:
            await self._meta.s3.create_upload(upload)
        except BucketMissing:
            raise errors.no_such_bucket(bucket.name) from None
        output: dict[str, Any] = {"Bucket": bucket.name, "Key": upload.key, "UploadId": upload.upload_id}
        output.update(encryption.output_members(chosen.attr))
        if declared is not None:
            output["ChecksumAlgorithm"] = algorithm.upper()
            output["ChecksumType"] = checksum_type
        return output

    async def upload_part(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = await self._upload(ctx, request)
        number = _part_number(request)
        body: BodyStream = request.get("Body") or BytesBody(b"")
        size = body.content_length
        if size is None:
            raise ServiceError(
                "MissingContentLength", "You must provide the Content-Length HTTP header.", status=411
            )
        if size > MAX_PART_SIZE:
            raise errors.entity_too_large(size, MAX_PART_SIZE)
        trailer = checksums.trailer_algorithms(body)
        _check_part_checksum_type(upload, checksums.check_sent(request, trailer))
        algorithms = checksums.requested(request, trailer, upload.attrs["Algorithm"])
        sealer = self._part_sealer(upload, request)
        info = await self.write_body(body, size, algorithms, sealer)
        try:
            checksums.verify_content_md5(request.get("ContentMD5"), info.md5)
            trailers: dict[str, str] = getattr(body, "trailers", None) or {}
            stored = checksums.verify(info.checksums, checksums.expected_values(request, trailers))
        except BaseException:
            await self.discard_blob(info.blob_id)
            raise
        part = PartRecord(
            upload.upload_id, number, info.size, etag_of(info.md5), info.blob_id, self._clock.now(), stored
        )
        await self._store_part(part)
        output: dict[str, Any] = {"ETag": part.etag}
        output.update(_part_checksum_members(upload, stored))
        output.update(encryption.output_members(upload.attrs["Object"].get(encryption.ATTR)))
        return output

    def _part_sealer(self, upload: UploadRecord, request: dict[str, Any]) -> crypto.ChunkCipher | None:
        """How a part of ``upload`` is sealed; an SSE-C upload needs its key again, as S3 requires."""
        attr: dict[str, Any] = upload.attrs["Object"].get(encryption.ATTR) or {}
        given = encryption.customer_key(request)
        if "KeyCheck" in attr:
            if given is None:
                raise errors.invalid_request(
                    "The multipart upload initiate requested encryption. Subsequent part requests must "
                    "include the appropriate encryption parameters."
                )
            if not crypto.key_matches(given.key, attr["KeyCheck"]):
                raise errors.invalid_request(
                    "The provided encryption parameters did not match the ones used originally."
                )
            return crypto.sealer_for_customer(given.key)
        if given is not None:
            raise errors.invalid_request(
                "The provided encryption parameters did not match the ones used originally."
            )
        if attr.get("Sealed") and self._keyring is not None:
            return crypto.sealer_for_master(self._keyring)
        return None

    async def upload_part_copy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = await self._upload(ctx, request)
        number = _part_number(request)
        _source, record, unseal, source_version = await self.source_object(ctx, request)
        sealer = self._part_sealer(upload, request)
        offset, length = _copy_range(request.get("CopySourceRange"), record.size)
        if length > MAX_PART_SIZE:
            raise errors.entity_too_large(length, MAX_PART_SIZE)
        info = await self.write_blob(
            iter_range(self._blobs, record, offset, length, unseal), [upload.attrs["Algorithm"]], sealer
        )
        stored = checksums.verify(info.checksums, {})
        now = self._clock.now()
        part = PartRecord(upload.upload_id, number, info.size, etag_of(info.md5), info.blob_id, now, stored)
        await self._store_part(part)
        result: dict[str, Any] = {"ETag": part.etag, "LastModified": utc(now)}
        result.update(_part_checksum_members(upload, stored))
        return {
            "CopyPartResult": result,
            **encryption.output_members(upload.attrs["Object"].get(encryption.ATTR)),
            **source_version,
        }

    async def _store_part(self, part: PartRecord) -> None:
        try:
            await self._meta.s3.put_part(part)
        except BaseException as exc:
            await self.discard_blob(part.blob_id)
            if isinstance(exc, UploadMissing):
                raise errors.no_such_upload(part.upload_id) from None
            raise

    async def complete_multipart_upload(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = await self._upload(ctx, request)
        wanted: list[dict[str, Any]] = (request.get("MultipartUpload") or {}).get("Parts") or []
        if not wanted:
            raise errors.malformed_xml()
        condition = conditions.write_condition(request)
        stored_parts = {part.part_number: part for part in await self._meta.s3.list_parts(upload.upload_id)}
        chosen = _chosen_parts(upload, wanted, stored_parts)
        total = sum(part.size for part in chosen)
        if "MpuObjectSize" in request and int(request["MpuObjectSize"]) != total:
            raise errors.invalid_request(
                f"The provided 'x-amz-mp-object-size' header value {request['MpuObjectSize']} does not match "
                f"what was computed: {total}"
            )
        md5s = b"".join(bytes.fromhex(part.etag.strip('"')) for part in chosen)
        etag = f'"{hashlib.md5(md5s, usedforsecurity=False).hexdigest()}-{len(chosen)}"'
        stored = _object_checksum(upload, chosen, request)
        attrs = dict(upload.attrs["Object"])
        attrs["Checksums"] = stored
        if upload.attrs["ChecksumType"] != mpu_checksums.FULL_OBJECT:
            attrs["ChecksumType"] = upload.attrs["ChecksumType"]
        record = ObjectRecord(
            upload.bucket,
            upload.key,
            total,
            etag,
            self._clock.now(),
            attrs=attrs,
            manifest=[BlobPart(part.blob_id, part.size) for part in chosen],
        )
        bucket = await self._meta.s3.get_bucket(upload.bucket)
        if bucket is None:
            raise errors.no_such_bucket(upload.bucket)
        versioned = versioning.assign(bucket, record)
        events = self.events_for(ctx, bucket, "s3:ObjectCreated:CompleteMultipartUpload", record)
        try:
            await self._meta.s3.complete_upload(
                upload.upload_id, record, condition, events=events, versioned=versioned
            )
        except UploadMissing:
            raise errors.no_such_upload(upload.upload_id) from None
        except PartsChanged:
            raise errors.conditional_conflict() from None
        except BucketMissing:
            raise errors.no_such_bucket(upload.bucket) from None
        except ObjectMissing:
            raise errors.no_such_key(upload.key) from None
        except ConditionFailed as failed:
            raise errors.precondition_failed(str(failed)) from None
        self._events.submit(events)
        await archive_after_write(self._meta, self._blobs, record)
        output: dict[str, Any] = {
            "Location": f"{ctx.base_url}/{upload.bucket}/{upload.key}",
            "Bucket": upload.bucket,
            "Key": upload.key,
            "ETag": etag,
        }
        output.update(versioning.shown_id(bucket, record.version_id))
        output.update(expiration_members(bucket.config, record))
        output.update(encryption.output_members(attrs.get(encryption.ATTR)))
        if upload.attrs.get("Declared") or request.get("ChecksumType"):
            output.update(checksums.output_members(stored))
            output["ChecksumType"] = upload.attrs["ChecksumType"]
        return output

    async def abort_multipart_upload(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = await self._upload(ctx, request)
        if not await self._meta.s3.abort_upload(upload.upload_id):
            raise errors.no_such_upload(upload.upload_id)
        return {}

    async def list_parts(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = await self._upload(ctx, request)
        max_parts = min(int(request.get("MaxParts", MAX_LIST_PARTS)), MAX_LIST_PARTS)
        if max_parts < 0:
            raise errors.invalid_argument(
                "Argument max-parts must be an integer between 0 and 2147483647", "max-parts", str(max_parts)
            )
        marker = int(request.get("PartNumberMarker", 0))
        parts = await self._meta.s3.list_parts(upload.upload_id, marker, max_parts + 1)
        truncated = len(parts) > max_parts
        parts = parts[:max_parts]
        owner = owner_of(upload.attrs["Object"].get("Owner", ctx.account_id))
        output: dict[str, Any] = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": max_parts,
            "IsTruncated": truncated,
            "Parts": [
                {
                    "PartNumber": part.part_number,
                    "LastModified": utc(part.last_modified),
                    "ETag": part.etag,
                    "Size": part.size,
                    **_part_checksum_members(upload, part.checksums),
                }
                for part in parts
            ],
            "Initiator": {"ID": owner["ID"], "DisplayName": owner["DisplayName"]},
            "Owner": owner,
            "StorageClass": upload.attrs["Object"].get("StorageClass", "STANDARD"),
        }
        if parts:
            output["NextPartNumberMarker"] = parts[-1].part_number
        if upload.attrs.get("Declared"):
            output["ChecksumAlgorithm"] = upload.attrs["Algorithm"].upper()
            output["ChecksumType"] = upload.attrs["ChecksumType"]
        return output

    async def list_multipart_uploads(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        encode = listing.encoder_for(request)
        max_uploads = min(int(request.get("MaxUploads", MAX_LIST_UPLOADS)), MAX_LIST_UPLOADS)
        if max_uploads < 0:
            raise errors.invalid_argument(
                "Argument max-uploads must be an integer between 0 and 2147483647",
                "max-uploads",
                str(max_uploads),
            )
        prefix = str(request.get("Prefix", ""))
        delimiter = str(request.get("Delimiter", ""))
        key_marker = str(request.get("KeyMarker", ""))
        id_marker = str(request.get("UploadIdMarker", "")) if key_marker else ""
        uploads, prefixes, truncated = await self._upload_page(
            bucket.name, prefix, delimiter, key_marker, id_marker, max_uploads
        )
        output: dict[str, Any] = {
            "Bucket": bucket.name,
            "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker,
            "Prefix": encode(prefix),
            "MaxUploads": max_uploads,
            "IsTruncated": truncated,
            "Uploads": [_upload_entry(upload, encode) for upload in uploads],
        }
        if delimiter:
            output["Delimiter"] = encode(delimiter)
        if prefixes:
            output["CommonPrefixes"] = [{"Prefix": encode(p)} for p in prefixes]
        if "EncodingType" in request:
            output["EncodingType"] = request["EncodingType"]
        if truncated and uploads:
            output["NextKeyMarker"] = encode(uploads[-1].key)
            output["NextUploadIdMarker"] = uploads[-1].upload_id
        elif truncated and prefixes:
            output["NextKeyMarker"] = encode(prefixes[-1])
        return output

    async def _upload_page(
        self, bucket: str, prefix: str, delimiter: str, key_marker: str, id_marker: str, limit: int
    ) -> tuple[list[UploadRecord], list[str], bool]:
        uploads: list[UploadRecord] = []
        prefixes: list[str] = []
        if limit == 0:
            return uploads, prefixes, False
        while True:
            wanted = limit - len(uploads) - len(prefixes) + 1
            batch = await self._meta.s3.list_uploads(bucket, prefix, key_marker, id_marker, wanted)
            if not batch:
                return uploads, prefixes, False
            for upload in batch:
                if len(uploads) + len(prefixes) == limit:
                    return uploads, prefixes, True
                index = upload.key.find(delimiter, len(prefix)) if delimiter else -1
                if index < 0:
                    uploads.append(upload)
                    key_marker, id_marker = upload.key, upload.upload_id
                    continue
                common = upload.key[: index + len(delimiter)]
                prefixes.append(common)
                key_marker, id_marker = common + listing.PAST_EVERYTHING, ""
                break
            else:
                if len(batch) < wanted:
                    return uploads, prefixes, False

    async def _upload(self, ctx: RequestContext, request: dict[str, Any]) -> UploadRecord:
        bucket = await self._bucket(ctx, request["Bucket"])
        upload_id = str(request["UploadId"])
        upload = await self._meta.s3.get_upload(upload_id)
        if upload is None or upload.bucket != bucket.name or upload.key != request["Key"]:
            raise errors.no_such_upload(upload_id)
        return upload

    async def expire_uploads(self, max_age: float) -> int:
        """Abort up to :data:`EXPIRY_BATCH` uploads begun more than ``max_age`` seconds ago; return
        how many."""
        cutoff = self._clock.now() - max_age
        expired = await self._meta.s3.uploads_initiated_before(cutoff, EXPIRY_BATCH)
        for upload in expired:
            await self._meta.s3.abort_upload(upload.upload_id)
        return len(expired)


def _part_number(request: dict[str, Any]) -> int:
    number = int(request["PartNumber"])
    if not MIN_PART_NUMBER <= number <= MAX_PART_NUMBER:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
        )
    return number


def _part_checksum_members(upload: UploadRecord, stored: dict[str, str]) -> dict[str, str]:
    if not upload.attrs.get("Declared"):
        return {}
    algorithm = upload.attrs["Algorithm"]
    value = stored.get(algorithm)
    return {} if value is None else {checksums.MEMBERS[algorithm]: value}


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    if header is None:
        return 0, size
    unit, _, spec = header.strip().partition("=")
    first, dash, last = spec.partition("-")
    if unit != "bytes" or not dash or not first.isdigit() or not last.isdigit():
        raise errors.invalid_argument(_COPY_RANGE_FORM, "x-amz-copy-source-range", header)
    start, end = int(first), int(last)
    if end < start:
        raise errors.invalid_argument(_COPY_RANGE_FORM, "x-amz-copy-source-range", header)
    if end >= size:
        raise errors.invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return start, end - start + 1


def _invalid_part(upload_id: str, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or "
        "the specified entity tag may not match the part's entity tag.",
        status=400,
        fields={"UploadId": upload_id, "PartNumber": str(number), "ETag": etag},
    )


def _chosen_parts(
    upload: UploadRecord, wanted: list[dict[str, Any]], stored: dict[int, PartRecord]
) -> list[PartRecord]:
    chosen: list[PartRecord] = []
    previous = 0
    algorithm = upload.attrs["Algorithm"]
    member = checksums.MEMBERS[algorithm]
    for entry in wanted:
        number = entry.get("PartNumber")
        etag = str(entry.get("ETag", ""))
        if number is None:
            raise errors.malformed_xml()
        if number <= previous:
            raise ServiceError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
                status=400,
                fields={"UploadId": upload.upload_id},
            )
        previous = number
        part = stored.get(number)
        if part is None or part.etag.strip('"') != etag.strip().strip('"'):
            raise _invalid_part(upload.upload_id, number, etag)
        sent = entry.get(member)
        if sent is not None and part.checksums.get(algorithm) != sent:
            raise _invalid_part(upload.upload_id, number, etag)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise ServiceError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                status=400,
                fields={
                    "ProposedSize": str(part.size),
                    "MinSizeAllowed": str(MIN_PART_SIZE),
                    "PartNumber": str(part.part_number),
                    "ETag": part.etag,
                },
            )
    return chosen


def _object_checksum(
    upload: UploadRecord, parts: list[PartRecord], request: dict[str, Any]
) -> dict[str, str]:
    algorithm = upload.attrs["Algorithm"]
    kind = upload.attrs["ChecksumType"]
    if kind == mpu_checksums.FULL_OBJECT:
        value = mpu_checksums.full_object(algorithm, [(p.checksums[algorithm], p.size) for p in parts])
    else:
        value = mpu_checksums.composite(algorithm, [p.checksums[algorithm] for p in parts])
    sent = request.get(checksums.MEMBERS[algorithm])
    if sent is not None and sent.split("-")[0] != value.split("-")[0]:
        raise ServiceError(
            "BadDigest",
            f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            status=400,
        )
    return {algorithm: value}


def _upload_entry(upload: UploadRecord, encode: Any) -> dict[str, Any]:
    owner = owner_of(upload.attrs["Object"].get("Owner", ""))
    entry: dict[str, Any] = {
        "UploadId": upload.upload_id,
        "Key": encode(upload.key),
        "Initiated": utc(upload.initiated),
        "StorageClass": upload.attrs["Object"].get("StorageClass", "STANDARD"),
        "Owner": owner,
        "Initiator": {"ID": owner["ID"], "DisplayName": owner["DisplayName"]},
    }
    if upload.attrs.get("Declared"):
        entry["ChecksumAlgorithm"] = upload.attrs["Algorithm"].upper()
        entry["ChecksumType"] = upload.attrs["ChecksumType"]
    return entry
