"""CopyObject: same or other bucket, metadata and tagging directives, source conditionals.

A copy onto itself (to change metadata, storage class or tags) reuses the object's bytes: the new
record references the same blobs, and the write checks inside its transaction that the object
still references them (``PutCondition.same_blobs``), so a concurrent overwrite cannot leave the
record pointing at blobs already queued as garbage. Any other copy streams the source into a new
blob (or inline record) while hashing it. A copy onto itself that changes how the bytes are
sealed (SSE-C in or out, or sealing an object written before encryption) rewrites them, and so
does every copy in a bucket with versioning: versions never share blobs, so deleting one version
never takes bytes another still needs. The source may be a version (``?versionId=``); copying an
old version onto its own key is how S3 restores it.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.checksums import Digests
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_s3 import CopySource, parse_copy_source
from kumoi.services.s3 import checksums, conditions, encryption, errors, object_lock, tagging, versioning
from kumoi.services.s3.acl import check_owner_access, checked_write_acl
from kumoi.services.s3.archive import is_archived, readable
from kumoi.services.s3.attributes import CONTENT_MEMBERS, expiration_members, object_attrs
from kumoi.services.s3.base import INLINE_MAX, etag_of, utc
from kumoi.services.s3.content import Unseal, iter_range
from kumoi.services.s3.objects import ObjectOperations
from kumoi.services.s3.owner_condition import SOURCE
from kumoi.storage.blob import crypto
from kumoi.storage.meta.contract import ObjectRecord, PutCondition, S3EventRow

#: The largest source CopyObject copies (larger ones need UploadPartCopy).
MAX_COPY_SOURCE = 5 * 1024**3
_DIRECTIVES = ("COPY", "REPLACE")
#: What a copy never takes from its source, even with the COPY directive (the CopyObject API
#: reference): without ``x-amz-storage-class`` the copy is STANDARD, and the website redirect is
#: "unique to each object": only the request's ``x-amz-website-redirect-location`` sets one.
_NOT_INHERITED = ("StorageClass", "WebsiteRedirectLocation")
_SELF_COPY_CHANGES = (
    "StorageClass",
    "WebsiteRedirectLocation",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "SSECustomerAlgorithm",
)


class CopyOperations(ObjectOperations):
    async def source_object(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> tuple[CopySource, ObjectRecord, Unseal, dict[str, str]]:
        """The object (or version, by ``?versionId=``) ``x-amz-copy-source`` names, after its
        bucket's access, its conditions and its SSE-C key
        (``x-amz-copy-source-server-side-encryption-customer-*``); with the
        ``CopySourceVersionId`` output member where the source bucket has versioning."""
        source = parse_copy_source(request["CopySource"])
        if source.version_id is None:
            bucket, record = await self._bucket_and_object(
                ctx, source.bucket, source.key, owner_member=SOURCE
            )
        else:
            try:
                bucket, record = await self._bucket_and_version(
                    ctx, source.bucket, source.key, source.version_id, owner_member=SOURCE
                )
            except ServiceError as error:
                if error.code == "MethodNotAllowed":
                    raise errors.invalid_request(
                        "The source of a copy request may not specifically refer to a delete marker by "
                        "version id."
                    ) from None
                if error.code == "InvalidArgument":
                    raise versioning.invalid_version("x-amz-copy-source", source.version_id) from None
                raise
        await check_owner_access(ctx, bucket, record)
        record = readable(record, self._clock.now())
        unseal = self.unseal(record, request, "CopySource")
        conditions.check_copy_source(request, record)
        shown = versioning.shown_id(bucket, record.version_id)
        return source, record, unseal, {"CopySourceVersionId": shown["VersionId"]} if shown else {}

    async def copy_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        acl_attrs = await checked_write_acl(self._meta, bucket, request, ctx.account_id, body=False)
        key = request["Key"]
        metadata_directive = _directive(request, "MetadataDirective", "metadata")
        tagging_directive = _directive(request, "TaggingDirective", "tagging")
        lock = object_lock.write_attrs(bucket, request, self._clock.now())
        source, record, unseal, source_version = await self.source_object(ctx, request)
        chosen = self.write_encryption(ctx, bucket, request)
        # Copying a named version onto its key restores it: a new version, never "onto itself".
        same = source.bucket == bucket.name and source.key == key and source.version_id is None
        if same and metadata_directive == "COPY" and not any(m in request for m in _SELF_COPY_CHANGES):
            raise errors.invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without "
                "changing the object's metadata, storage class, website redirect location or encryption "
                "attributes."
            )
        if record.size > MAX_COPY_SOURCE:
            raise errors.invalid_request(
                "The specified copy source is larger than the maximum allowable size for a copy source: "
                f"{MAX_COPY_SOURCE}"
            )
        condition = conditions.write_condition(request)
        source_tags: dict[str, str] = record.attrs.get("Tags", {})
        if tagging_directive == "REPLACE":
            tags = tagging.from_header(request.get("Tagging", ""))
        else:
            tags = source_tags
        now = self._clock.now()
        wanted = checksums.requested(request) if "ChecksumAlgorithm" in request else None
        # Versions never share blobs: where versions are kept, a copy onto itself writes new bytes.
        reuse = (
            same
            and versioning.status(bucket) is None
            and not is_archived(record)
            and wanted is None
            and encryption.same_sealing(record.attrs.get(encryption.ATTR), chosen)
        )
        if reuse:
            target = ObjectRecord(
                bucket.name,
                key,
                record.size,
                record.etag,
                now,
                record.blob_id,
                record.inline,
                {},
                record.manifest,
            )
            stored = dict(record.attrs.get("Checksums", {}))
            checksum_type = record.attrs.get("ChecksumType", "FULL_OBJECT")
            blobs = tuple(record.blob_ids())
            condition = PutCondition(
                if_match=condition.if_match if condition else None,
                if_none_match=condition.if_none_match if condition else False,
                same_blobs=blobs,
            )
        else:
            algorithms = wanted or _algorithms_of(record)
            target, stored = await self._copy_data(
                record, unseal, bucket.name, key, algorithms, now, self.sealer(chosen)
            )
            checksum_type = "FULL_OBJECT"
        target.attrs = _copied_attrs(
            request, record, metadata_directive, stored, ctx.account_id, tags, checksum_type
        )
        target.attrs[encryption.ATTR] = chosen.attr
        target.attrs.update(lock)
        target.attrs.update(acl_attrs)
        versioned = versioning.assign(bucket, target)
        events = self.events_for(ctx, bucket, "s3:ObjectCreated:Copy", target)
        if reuse and condition is not None:
            await self._store_reused(target, condition, events)
        else:
            await self.store_object(target, condition, events=events, versioned=versioned)
        result: dict[str, Any] = {"ETag": target.etag, "LastModified": utc(now)}
        result.update(checksums.output_members(stored) if checksum_type == "FULL_OBJECT" else {})
        return {
            "CopyObjectResult": result,
            **encryption.output_members(chosen.attr),
            **versioning.shown_id(bucket, target.version_id),
            **source_version,
            **expiration_members(bucket.config, target),
        }

    async def _store_reused(
        self, record: ObjectRecord, condition: PutCondition, events: list[S3EventRow]
    ) -> None:
        try:
            await self.store_object(record, condition, owns_blob=False, events=events)
        except ServiceError as error:
            if error.code == "PreconditionFailed" and error.fields.get("Condition") == "x-amz-copy-source":
                raise errors.conditional_conflict() from None
            raise

    async def _copy_data(
        self,
        source: ObjectRecord,
        unseal: Unseal,
        bucket: str,
        key: str,
        algorithms: list[str],
        now: float,
        sealer: crypto.ChunkCipher | None,
    ) -> tuple[ObjectRecord, dict[str, str]]:
        chunks = iter_range(self._blobs, source, 0, source.size, unseal)
        if source.size <= INLINE_MAX:
            data = b"".join([chunk async for chunk in chunks])
            digests = Digests(algorithms)
            digests.update_on_loop(data)
            stored = checksums.verify(digests.checksums(), {})
            inline = data if sealer is None else sealer.seal_all(data)
            return ObjectRecord(bucket, key, source.size, etag_of(digests.md5()), now, inline=inline), stored
        info = await self.write_blob(chunks, algorithms, sealer)
        stored = checksums.verify(info.checksums, {})
        return ObjectRecord(bucket, key, info.size, etag_of(info.md5), now, blob_id=info.blob_id), stored


def _directive(request: dict[str, Any], member: str, what: str) -> str:
    value = str(request.get(member, "COPY"))
    if value not in _DIRECTIVES:
        raise errors.invalid_argument(f"Unknown {what} directive.", f"x-amz-{what}-directive", value)
    return value


def _algorithms_of(record: ObjectRecord) -> list[str]:
    stored = record.attrs.get("Checksums") or {}
    if record.attrs.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
        return [next(iter(stored))] if stored else [checksums.DEFAULT_ALGORITHM]
    return list(stored) or [checksums.DEFAULT_ALGORITHM]


def _copied_attrs(
    request: dict[str, Any],
    source: ObjectRecord,
    directive: str,
    stored: dict[str, str],
    owner: str,
    tags: dict[str, str],
    checksum_type: str,
) -> dict[str, Any]:
    if directive == "REPLACE":
        return object_attrs(request, stored, owner, tags, checksum_type)
    inherited: dict[str, Any] = {
        m: source.attrs[m]
        for m in (*CONTENT_MEMBERS, "Metadata")
        if m in source.attrs and m not in _NOT_INHERITED
    }
    if "Expires" in source.attrs:
        inherited["Expires"] = utc(source.attrs["Expires"])
    for member in _NOT_INHERITED:
        if member in request:
            inherited[member] = request[member]
    return object_attrs(inherited, stored, owner, tags, checksum_type)
