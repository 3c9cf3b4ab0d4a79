"""An object's stored attributes (``ObjectRecord.attrs``) and the headers they come back as.

``attrs`` keeps what a write set and a read returns: the content headers, user metadata,
``Expires``, a storage class other than STANDARD, checksums (base64 by algorithm, with their
type), tags and the owner. Writes (PUT, copy with REPLACE, multipart creation) build it with
:func:`object_attrs`; GET and HEAD turn it back into output members with :func:`object_headers`,
and :func:`lifecycle_members` adds what lifecycle rules and archive restores say of the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import api, checksums, encryption
from kumoi.services.s3.archive import restore_header
from kumoi.services.s3.base import utc
from kumoi.services.s3.lifecycle_config import stored_rules
from kumoi.services.s3.lifecycle_rules import ObjectFacts, expiration_header
from kumoi.storage.meta.contract import ObjectRecord

#: User metadata (names and values, in UTF-8 bytes) S3 accepts per object.
MAX_USER_METADATA = 2 * 1024
CONTENT_MEMBERS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseExpires": "Expires",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
}
#: The storage classes an object may be written with: the model's StorageClass enum.
STORAGE_CLASSES = frozenset(get_args(api.StorageClass))
DEFAULT_CONTENT_TYPE = "binary/octet-stream"


def check_metadata(metadata: Mapping[str, str]) -> None:
    size = sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in metadata.items())
    if size > MAX_USER_METADATA:
        raise ServiceError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
            fields={"Size": str(size), "MaxSizeAllowed": str(MAX_USER_METADATA)},
        )


def check_storage_class(request: Mapping[str, Any]) -> None:
    value = request.get("StorageClass")
    if value is not None and value not in STORAGE_CLASSES:
        raise ServiceError("InvalidStorageClass", "The storage class you specified is not valid", status=400)


#: The longest ``x-amz-website-redirect-location`` S3 stores.
MAX_REDIRECT_LOCATION = 2048


def check_redirect_location(request: Mapping[str, Any]) -> None:
    """A website redirect must name a path in the bucket (``/``) or an http(s) URL, as S3 requires."""
    value = request.get("WebsiteRedirectLocation")
    if value is None:
        return
    if not value.startswith(("/", "http://", "https://")):
        raise ServiceError(
            "InvalidRedirectLocation",
            "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
        )
    if len(value) > MAX_REDIRECT_LOCATION:
        raise ServiceError(
            "InvalidRedirectLocation",
            "The length of website redirect location cannot exceed 2,048 characters.",
        )


def object_attrs(
    request: Mapping[str, Any],
    stored_checksums: Mapping[str, str],
    owner: str,
    tags: Mapping[str, str] | None = None,
    checksum_type: str = "FULL_OBJECT",
) -> dict[str, Any]:
    """The attributes a write stores, from its request members."""
    metadata: dict[str, str] = dict(request.get("Metadata") or {})
    check_metadata(metadata)
    check_storage_class(request)
    check_redirect_location(request)
    attrs: dict[str, Any] = {member: request[member] for member in CONTENT_MEMBERS if member in request}
    if metadata:
        attrs["Metadata"] = metadata
    if "Expires" in request:
        attrs["Expires"] = request["Expires"].timestamp()
    if request.get("StorageClass", "STANDARD") != "STANDARD":
        attrs["StorageClass"] = request["StorageClass"]
    attrs["Checksums"] = dict(stored_checksums)
    if checksum_type != "FULL_OBJECT":
        attrs["ChecksumType"] = checksum_type
    if tags:
        attrs["Tags"] = dict(tags)
    attrs["Owner"] = owner
    return attrs


def checksum_members(attrs: Mapping[str, Any]) -> dict[str, str]:
    """``Checksum<ALG>`` and ``ChecksumType`` output members of the stored checksums."""
    members = checksums.output_members(attrs.get("Checksums", {}))
    if members:
        members["ChecksumType"] = attrs.get("ChecksumType", "FULL_OBJECT")
    return members


def object_headers(record: ObjectRecord, request: Mapping[str, Any]) -> dict[str, Any]:
    """GET/HEAD output members of an object (without the body and its length)."""
    attrs = record.attrs
    output: dict[str, Any] = {
        "ETag": record.etag,
        "LastModified": utc(record.last_modified),
        "AcceptRanges": "bytes",
        "Metadata": dict(attrs.get("Metadata", {})),
    }
    for member in CONTENT_MEMBERS:
        if member in attrs:
            output[member] = attrs[member]
    output.setdefault("ContentType", DEFAULT_CONTENT_TYPE)
    if "Expires" in attrs:
        output["Expires"] = utc(attrs["Expires"])
    storage_class = attrs.get("StorageClass", "STANDARD")
    if storage_class != "STANDARD":
        output["StorageClass"] = storage_class
    tags = attrs.get("Tags")
    if tags:
        output["TagCount"] = len(tags)
    if request.get("ChecksumMode") == "ENABLED":
        output.update(checksum_members(attrs))
    output.update(encryption.output_members(attrs.get(encryption.ATTR)))
    for override, member in RESPONSE_OVERRIDES.items():
        if override in request:
            output[member] = request[override]
    return output


def expiration_members(config: Mapping[str, Any], record: ObjectRecord) -> dict[str, str]:
    """``Expiration`` (``x-amz-expiration``) of the current version ``record`` where a lifecycle
    rule of the bucket ``config`` will expire it: what PutObject, CopyObject,
    CompleteMultipartUpload, GetObject and HeadObject answer."""
    rules = stored_rules(config)
    if not rules:
        return {}
    facts = ObjectFacts(record.key, record.size, record.last_modified, tags=record.attrs.get("Tags") or {})
    value = expiration_header(rules, facts)
    return {} if value is None else {"Expiration": value}


def lifecycle_members(
    config: Mapping[str, Any], record: ObjectRecord, *, current: bool = True
) -> dict[str, str]:
    """``Expiration`` (``x-amz-expiration``: when a lifecycle rule of the bucket ``config`` will
    expire the object, if ``current``) and ``Restore`` (``x-amz-restore``: an archived object's
    restore state) output members."""
    members = expiration_members(config, record) if current else {}
    restore = restore_header(record)
    if restore is not None:
        members["Restore"] = restore
    return members
