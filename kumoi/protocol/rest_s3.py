"""What S3 does on the wire that its botocore model does not say.

Each fact is a named value or function here, with the behaviour it reproduces; the generic
rest-xml codec consults them only when it is compiled for the S3 model.

* Response documents carry S3's namespace on their root element, and their root names are not in
  the model (``ListObjectsV2`` answers ``<ListBucketResult>``): :data:`OUTPUT_ROOTS`.
* ``GetBucketLocation`` answers ``<LocationConstraint xmlns="...">region</LocationConstraint>``:
  the value *is* the root element, empty for us-east-1.
* ``POST /{Bucket}`` with no sub-resource is the browser form upload (PostObject), which the model
  does not describe: :data:`POST_OBJECT`.
* ``OPTIONS /{Bucket}[/{Key+}]`` is a CORS preflight request ("OPTIONS object" in the S3 API
  reference), also absent from the model: :data:`OPTIONS_OBJECT`.
* Both pseudo-operations answer with a provider-built response (status, headers, body), since
  neither has an output shape to serialize: :data:`RAW_OPERATIONS`, :func:`raw_response`.
* Object keys are at most 1,024 bytes of UTF-8 (``KeyTooLongError``).
* ``x-amz-copy-source`` is ``[/]bucket/key[?versionId=id]``, percent-encoded: :func:`parse_copy_source`.
* Listings are S3's hottest documents (1,000 ``<Contents>`` per page): :func:`contents_writer`
  renders each entry with one string build instead of a writer call per member
  (:data:`WRITER_OVERRIDES`); entries it does not know fall back to the compiled writer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpResponse
from kumoi.protocol.rest_routing import Route
from kumoi.protocol.rest_values import UriError, format_iso8601, percent_decode
from kumoi.protocol.xml import escape_text

#: The XML namespace of every S3 response document.
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
#: The longest object key S3 accepts, in bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: The region whose buckets report an empty LocationConstraint.
DEFAULT_REGION = "us-east-1"

#: The pseudo-operation for browser-based uploads (HTML form POST to the bucket).
POST_OBJECT = "PostObject"
#: A ranged GetObject answers 206 Partial Content; the model gives no status for it.
PARTIAL_CONTENT = 206
POST_OBJECT_ROUTE = Route(operation=POST_OBJECT, method="POST", path="/{Bucket}", order=1 << 30)
#: The pseudo-operation for CORS preflight requests.
OPTIONS_OBJECT = "OptionsObject"
OPTIONS_ROUTES = (
    Route(operation=OPTIONS_OBJECT, method="OPTIONS", path="/{Bucket}", order=1 << 30),
    Route(operation=OPTIONS_OBJECT, method="OPTIONS", path="/{Bucket}/{Key+}", order=1 << 30),
)
#: Pseudo-operations whose provider output is the response itself: ``Status`` (int), ``Headers``
#: (list of name/value pairs) and ``Body`` (bytes).
RAW_OPERATIONS = frozenset({POST_OBJECT, OPTIONS_OBJECT})

#: Root element names of S3 response documents whose output shape has no payload member.
OUTPUT_ROOTS: dict[str, str] = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectTagging": "Tagging",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}


def raw_response(output: Mapping[str, Any], id_headers: list[tuple[str, str]]) -> HttpResponse:
    """The response a pseudo-operation's provider built (see :data:`RAW_OPERATIONS`)."""
    body = bytes(output.get("Body", b""))
    headers = [*id_headers, *output.get("Headers", ())]
    return HttpResponse(
        status=int(output.get("Status", 200)), headers=headers, body=body, content_length=len(body)
    )


def location_constraint_document(region: str | None) -> bytes:
    """GetBucketLocation's body: the region as the root element's text (empty for us-east-1)."""
    text = "" if not region or region == DEFAULT_REGION else escape_text(region)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{S3_NAMESPACE}">{text}'
        "</LocationConstraint>"
    ).encode()


def check_key(key: str) -> None:
    """Refuse a key over :data:`MAX_KEY_BYTES`; a key of at most 256 characters needs no encoding
    to know it fits (UTF-8 spends at most 4 bytes per character)."""
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ServiceError("KeyTooLongError", "Your key is too long", 400)


@dataclass(frozen=True, slots=True)
class CopySource:
    """The object an ``x-amz-copy-source`` header names."""

    bucket: str
    key: str
    version_id: str | None = None


def parse_copy_source(value: str) -> CopySource:
    """Parse ``x-amz-copy-source`` as S3 does: an optional leading ``/``, the bucket, ``/``, the
    percent-encoded key (a ``+`` is a plus), then optionally ``?versionId=<id>``."""
    path, sep, query = value.partition("?")
    version_id: str | None = None
    if sep:
        name, _, raw_version = query.partition("=")
        if name != "versionId" or not raw_version:
            raise _copy_source_error(value, "Invalid version id specified")
        try:
            version_id = percent_decode(raw_version)
        except UriError:
            raise _copy_source_error(value, "Invalid version id specified") from None
    try:
        decoded = percent_decode(path)
    except UriError:
        raise _copy_source_error(value, "Invalid copy source encoding") from None
    bucket, _, key = decoded.removeprefix("/").partition("/")
    if not bucket or not key:
        raise _copy_source_error(
            value, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        )
    check_key(key)
    return CopySource(bucket, key, version_id)


def _copy_source_error(value: str, message: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        message,
        400,
        fields={"ArgumentName": "x-amz-copy-source", "ArgumentValue": value},
    )


def method_not_allowed(method: str, resource_type: str) -> ServiceError:
    """S3's answer to a method that no operation accepts on the addressed resource."""
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        fields={"Method": method, "ResourceType": resource_type},
    )


def resource_type(path: str) -> str:
    """``SERVICE``, ``BUCKET`` or ``OBJECT``, as S3 names the target of a path-style request."""
    bucket, _, key = path.removeprefix("/").partition("/")
    if not bucket:
        return "SERVICE"
    return "OBJECT" if key else "BUCKET"


#: Members of a listed object that :func:`contents_writer` renders itself.
_CONTENTS_MEMBERS = frozenset(
    {"Key", "LastModified", "ETag", "ChecksumAlgorithm", "ChecksumType", "Size", "StorageClass", "Owner"}
)
#: Members every entry a kumoi listing makes has (others take the compiled writer).
_COMMON_MEMBERS = frozenset({"Key", "LastModified", "ETag", "Size"})
_NEEDS_ESCAPE = re.compile("[&<>\r]").search
_MemberWriter = Callable[[list[str], Any], None]


def _seconds_text(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def contents_writer(compiled: _MemberWriter) -> _MemberWriter:
    """The ``<Contents>`` entries of ListObjects/ListObjectsV2, one string build per entry.

    What repeats across a page is rendered once per distinct value and reused: the tail of
    storage class, checksum names and type and owner, and the date part of timestamps (keys
    written together share their second). Text is escaped only when it holds a character that
    needs it.
    """

    def write(parts: list[str], items: list[dict[str, Any]]) -> None:
        append = parts.append
        tails: dict[Any, str] = {}
        dates: dict[int, str] = {}
        for item in items:
            if not _CONTENTS_MEMBERS.issuperset(item) or not _COMMON_MEMBERS.issubset(item):
                compiled(parts, [item])
                continue
            modified = item["LastModified"]
            if isinstance(modified, datetime):
                stamp = format_iso8601(modified)
            else:
                seconds = int(modified)
                date = dates.get(seconds)
                if date is None:
                    date = dates[seconds] = _seconds_text(seconds)
                stamp = f"{date}.{int((modified - seconds) * 1000):03d}Z"
            shared = (
                tuple(item.get("ChecksumAlgorithm") or ()),
                item.get("ChecksumType"),
                item.get("StorageClass"),
                None if "Owner" not in item else (item["Owner"].get("DisplayName"), item["Owner"].get("ID")),
            )
            tail = tails.get(shared)
            if tail is None:
                tail = tails[shared] = _shared_members(*shared)
            key, etag = item["Key"], item["ETag"]
            append(
                f"<Contents><Key>{escape_text(key) if _NEEDS_ESCAPE(key) else key}</Key>"
                f"<LastModified>{stamp}</LastModified>"
                f"<ETag>{escape_text(etag) if _NEEDS_ESCAPE(etag) else etag}</ETag>"
                f"<Size>{int(item['Size'])}</Size>{tail}"
            )

    return write


def _shared_members(
    algorithms: tuple[str, ...],
    kind: str | None,
    storage_class: str | None,
    owner: tuple[str | None, ...] | None,
) -> str:
    text = "".join(f"<ChecksumAlgorithm>{escape_text(a)}</ChecksumAlgorithm>" for a in algorithms)
    if kind is not None:
        text += f"<ChecksumType>{escape_text(kind)}</ChecksumType>"
    if storage_class is not None:
        text += f"<StorageClass>{escape_text(storage_class)}</StorageClass>"
    if owner is not None:
        name, owner_id = owner
        text += "<Owner>"
        if name is not None:
            text += f"<DisplayName>{escape_text(name)}</DisplayName>"
        if owner_id is not None:
            text += f"<ID>{escape_text(owner_id)}</ID>"
        text += "</Owner>"
    return text + "</Contents>"


#: Hand-written writers of hot members, by (structure shape, member): see :func:`contents_writer`.
WRITER_OVERRIDES: dict[tuple[str, str], Callable[[_MemberWriter], _MemberWriter]] = {
    ("ListObjectsV2Output", "Contents"): contents_writer,
    ("ListObjectsOutput", "Contents"): contents_writer,
}
