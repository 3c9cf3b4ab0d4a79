"""Object and bucket tags: the ``x-amz-tagging`` header, the tagging APIs, and S3's limits.

Object tags live in the object's ``attrs["Tags"]``; changing them rewrites only the attributes,
guarded by the ETag read just before, so a tag update never lands on an object that was replaced
meanwhile. Bucket tags live in the bucket's ``config["Tags"]``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors, versioning
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.storage.meta.contract import NULL_VERSION, ConditionFailed, ObjectMissing

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
#: Attempts at a tag update that keeps finding the object replaced under it.
UPDATE_ATTEMPTS = 5
_RESERVED_PREFIX = "aws:"


def _invalid_tag(message: str) -> ServiceError:
    return ServiceError("InvalidTag", message, status=400)


def validate(tags: dict[str, str], limit: int, *, bucket: bool = False) -> dict[str, str]:
    if len(tags) > limit:
        if bucket:
            raise _invalid_tag(f"Bucket tag count cannot be greater than {limit}")
        raise ServiceError("BadRequest", f"Object tags cannot be greater than {limit}", status=400)
    for key, value in tags.items():
        if not key or len(key) > MAX_TAG_KEY:
            raise _invalid_tag("The TagKey you have provided is invalid")
        if len(value) > MAX_TAG_VALUE:
            raise _invalid_tag("The TagValue you have provided is invalid")
        if key.startswith(_RESERVED_PREFIX):
            raise _invalid_tag("Your TagKey cannot be prefixed with aws:")
    return tags


def from_tag_set(tag_set: list[dict[str, str]], limit: int, *, bucket: bool = False) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in tag_set:
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise errors.malformed_xml()
        if key in tags:
            raise _invalid_tag("Cannot provide multiple Tags with the same key")
        tags[key] = value
    return validate(tags, limit, bucket=bucket)


def from_header(header: str) -> dict[str, str]:
    """Tags from ``x-amz-tagging`` (a URL-encoded query string, ``k1=v1&k2=v2``)."""
    tags: dict[str, str] = {}
    for key, value in parse_qsl(header, keep_blank_values=True):
        if key in tags:
            raise _invalid_tag("Cannot provide multiple Tags with the same key")
        tags[key] = value
    return validate(tags, MAX_OBJECT_TAGS)


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class TaggingOperations(S3Base):
    async def put_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        tags = from_tag_set(request["Tagging"].get("TagSet", []), MAX_OBJECT_TAGS)
        return await self._update_tags(ctx, request, tags, "s3:ObjectTagging:Put")

    async def delete_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._update_tags(ctx, request, {}, "s3:ObjectTagging:Delete")

    async def get_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        return {
            "TagSet": tag_set(record.attrs.get("Tags", {})),
            **versioning.shown_id(bucket, record.version_id),
        }

    async def _update_tags(
        self, ctx: RequestContext, request: dict[str, Any], tags: dict[str, str], event: str
    ) -> dict[str, Any]:
        """Set (or, empty, remove) the tags of the object, or of the version the request names;
        the output members (its version id where the bucket has versioning)."""
        if "VersionId" in request:
            return await self._update_version_tags(ctx, request, tags, event)
        bucket = await self._bucket(ctx, request["Bucket"])
        for _attempt in range(UPDATE_ATTEMPTS):
            record = await self._object(ctx, request["Bucket"], request["Key"])
            attrs = dict(record.attrs)
            if tags:
                attrs["Tags"] = tags
            else:
                attrs.pop("Tags", None)
            version = versioning.shown_id(bucket, record.version_id)
            facts = ObjectFacts(record.key, etag=record.etag, version_id=version.get("VersionId"))
            events = self._events.prepare(ctx, bucket, event, facts)
            try:
                await self._meta.s3.update_object_attrs(
                    record.bucket, record.key, record.etag, attrs, events=events
                )
            except ObjectMissing:
                raise await self.missing_key(ctx, bucket.name, record.key) from None
            except ConditionFailed:
                continue
            self._events.submit(events)
            return version
        raise errors.conditional_conflict()

    async def _update_version_tags(
        self, ctx: RequestContext, request: dict[str, Any], tags: dict[str, str], event: str
    ) -> dict[str, Any]:
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], str(request["VersionId"])
        )
        version = versioning.shown_id(bucket, record.version_id) or {"VersionId": NULL_VERSION}
        facts = ObjectFacts(record.key, etag=record.etag, version_id=version["VersionId"])
        events = self._events.prepare(ctx, bucket, event, facts)
        try:
            await self._meta.s3.patch_version_attrs(
                bucket.name, record.key, record.version_id, {"Tags": tags or None}, events=events
            )
        except ObjectMissing:
            raise versioning.no_such_version(record.key, version["VersionId"]) from None
        self._events.submit(events)
        return version

    async def put_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        tags = from_tag_set(request["Tagging"].get("TagSet", []), MAX_BUCKET_TAGS, bucket=True)
        await self._set_bucket_setting(bucket, "Tags", tags)
        return {}

    async def get_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        tags = bucket.config.get("Tags")
        if not tags:
            raise errors.no_bucket_configuration("NoSuchTagSet", "The TagSet does not exist", bucket.name)
        return {"TagSet": tag_set(tags)}

    async def delete_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._remove_bucket_setting(bucket, "Tags")
        return {}
