"""Browser POST uploads (PostObject): an HTML form straight to a bucket, signed by a policy.

The form's fields are read first (:mod:`~kumoi.services.s3.form`), the policy and signature
checked (:mod:`kumoi.auth.post_policy`), then the file streams into the object exactly like a
PutObject body: inline when small, otherwise into a blob under a write intent, hashed on the way,
and its size held to the policy's ``content-length-range``. The answer follows
``success_action_redirect`` (303 to that URL with bucket, key and ETag) or
``success_action_status`` (200, 201 with a ``PostResponse`` document, or 204, the default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from kumoi.auth.post_policy import LengthRange, PostPolicyVerifier
from kumoi.core.checksums import Digests
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_s3 import S3_NAMESPACE
from kumoi.protocol.rest_values import parse_timestamp
from kumoi.protocol.xml import XmlError, XmlWriter, parse
from kumoi.services.s3 import checksums, encryption, errors, object_lock, tagging, versioning
from kumoi.services.s3.attributes import object_attrs
from kumoi.services.s3.base import INLINE_MAX, etag_of
from kumoi.services.s3.form import FilePart, FormReader, boundary_of
from kumoi.services.s3.objects import ObjectOperations
from kumoi.storage.blob import crypto
from kumoi.storage.meta.contract import ObjectRecord

#: The largest file a form may upload (as a single PUT).
MAX_POST_SIZE = 5 * 1024**3
_FIELD_MEMBERS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
}
_CHECKSUM_FIELDS = {f"x-amz-checksum-{alg}": member for alg, member in checksums.MEMBERS.items()}
_META_PREFIX = "x-amz-meta-"


class PostObjectOperations(ObjectOperations):
    _post_policy: PostPolicyVerifier

    async def post_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        reader = FormReader(request["Body"], boundary_of(request.get("ContentType")))
        raw_fields, file = await reader.read_fields()
        if file is None:
            raise errors.invalid_argument("POST requires exactly one file upload per request.", "file", "0")
        fields = {name.lower(): value for name, value in raw_fields.items()}
        verified = self._post_policy.verify(raw_fields, request["Bucket"])
        bucket = await self._meta.s3.get_bucket(request["Bucket"])
        if bucket is None:
            raise errors.no_such_bucket(request["Bucket"])
        if bucket.account_id != verified.credential.account_id:
            raise errors.access_denied()
        if "key" not in fields:
            raise errors.invalid_argument(
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order "
                "of the fields.",
                "key",
                "",
            )
        key = fields["key"].replace("${filename}", file.filename)
        if not key:
            raise errors.invalid_argument("User key must have a length greater than 0.", "key", "")
        members = _members(fields, file)
        tags = (
            tagging.from_tag_set(_tag_set(fields["tagging"]), tagging.MAX_OBJECT_TAGS)
            if "tagging" in fields
            else None
        )
        object_attrs(members, {}, verified.credential.account_id, tags)
        limit = verified.length_range or LengthRange(0, MAX_POST_SIZE)
        chosen = self.write_encryption(ctx, bucket, members)
        sealer = self.sealer(chosen)
        record, stored = await self._store_file(
            bucket.name, key, reader.file_chunks(), members, limit, sealer
        )
        record.attrs = object_attrs(members, stored, verified.credential.account_id, tags)
        record.attrs[encryption.ATTR] = chosen.attr
        record.attrs.update(object_lock.write_attrs(bucket, {}, self._clock.now()))
        versioned = versioning.assign(bucket, record)
        await self.store_object(
            record,
            None,
            events=self.events_for(ctx, bucket, "s3:ObjectCreated:Post", record),
            versioned=versioned,
        )
        return _answer(ctx, fields, bucket.name, key, record.etag)

    async def _store_file(
        self,
        bucket: str,
        key: str,
        chunks: AsyncIterator[bytes],
        members: dict[str, Any],
        limit: LengthRange,
        sealer: crypto.ChunkCipher | None,
    ) -> tuple[ObjectRecord, dict[str, str]]:
        algorithms = checksums.requested(members)
        now = self._clock.now()
        buffered: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            _check_size(size, limit.maximum)
            buffered.append(chunk)
            if size > INLINE_MAX:
                break
        else:
            _check_minimum(size, limit.minimum)
            data = b"".join(buffered)
            digests = Digests(algorithms)
            digests.update_on_loop(data)
            stored = checksums.verify(digests.checksums(), checksums.expected_values(members, {}))
            inline = data if sealer is None else sealer.seal_all(data)
            return ObjectRecord(bucket, key, size, etag_of(digests.md5()), now, inline=inline), stored

        async def rest() -> AsyncIterator[bytes]:
            total = size
            for chunk in buffered:
                yield chunk
            async for chunk in chunks:
                total += len(chunk)
                _check_size(total, limit.maximum)
                yield chunk
            _check_minimum(total, limit.minimum)

        info = await self.write_blob(rest(), algorithms, sealer)
        try:
            stored = checksums.verify(info.checksums, checksums.expected_values(members, {}))
        except BaseException:
            await self.discard_blob(info.blob_id)
            raise
        return ObjectRecord(bucket, key, info.size, etag_of(info.md5), now, blob_id=info.blob_id), stored


def _check_size(size: int, maximum: int) -> None:
    if size > maximum:
        raise errors.entity_too_large(size, maximum)


def _check_minimum(size: int, minimum: int) -> None:
    if size < minimum:
        raise ServiceError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            status=400,
            fields={"ProposedSize": str(size), "MinSizeAllowed": str(minimum)},
        )


def _members(fields: dict[str, str], file: FilePart) -> dict[str, Any]:
    """PutObject-like request members from the form's fields."""
    members: dict[str, Any] = {}
    for field, member in _FIELD_MEMBERS.items():
        if field in fields:
            members[member] = fields[field]
    if "ContentType" not in members and file.content_type:
        members["ContentType"] = file.content_type
    for field, member in _CHECKSUM_FIELDS.items():
        if field in fields:
            members[member] = fields[field]
    if "x-amz-checksum-algorithm" in fields:
        members["ChecksumAlgorithm"] = fields["x-amz-checksum-algorithm"]
    if "expires" in fields:
        try:
            members["Expires"] = parse_timestamp(fields["expires"])
        except ValueError:
            raise errors.invalid_argument("Invalid Expires field", "Expires", fields["expires"]) from None
    metadata = {
        name[len(_META_PREFIX) :]: value for name, value in fields.items() if name.startswith(_META_PREFIX)
    }
    if metadata:
        members["Metadata"] = metadata
    return members


def _tag_set(document: str) -> list[dict[str, str]]:
    """The tags of a form's ``tagging`` field (a ``<Tagging><TagSet>`` XML document)."""
    try:
        root = parse(document.encode("utf-8"))
    except XmlError:
        raise errors.malformed_xml() from None
    tag_set = root.find("TagSet")
    if root.tag != "Tagging" or tag_set is None:
        raise errors.malformed_xml()
    tags = []
    for tag in tag_set.findall("Tag"):
        key, value = tag.find("Key"), tag.find("Value")
        if key is None or value is None:
            raise errors.malformed_xml()
        tags.append({"Key": key.text, "Value": value.text})
    return tags


def _answer(ctx: RequestContext, fields: dict[str, str], bucket: str, key: str, etag: str) -> dict[str, Any]:
    location = f"{ctx.base_url}/{quote(bucket)}/{quote(key)}"
    common = [("ETag", etag), ("Location", location)]
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        parts = urlsplit(redirect)
        if parts.scheme in ("http", "https") and parts.netloc:
            extra = urlencode({"bucket": bucket, "key": key, "etag": etag})
            query = f"{parts.query}&{extra}" if parts.query else extra
            target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
            return {"Status": 303, "Headers": [*common[:1], ("Location", target)], "Body": b""}
    status = fields.get("success_action_status")
    if status == "201":
        writer = XmlWriter()
        writer.start("PostResponse", {"xmlns": S3_NAMESPACE})
        writer.element("Location", location)
        writer.element("Bucket", bucket)
        writer.element("Key", key)
        writer.element("ETag", etag)
        writer.end("PostResponse")
        body = writer.getvalue()
        return {"Status": 201, "Headers": [*common, ("Content-Type", "application/xml")], "Body": body}
    return {"Status": 200 if status == "200" else 204, "Headers": common, "Body": b""}
