"""What S3 does on the wire that its botocore model does not say.

Each fact is a named value or function here, with the behaviour it reproduces; the generic
rest-xml codec consults them only when it is compiled for the S3 model.

* Response documents carry S3's namespace on their root element, and their root names are not in
  the model (``ListObjectsV2`` answers ``<ListBucketResult>``): :data:`OUTPUT_ROOTS`.
* ``GetBucketLocation`` answers ``<LocationConstraint xmlns="...">region</LocationConstraint>``:
  the value *is* the root element, empty for us-east-1.
* ``POST /{Bucket}`` with no sub-resource is the browser form upload (PostObject), which the model
  does not describe: :data:`POST_OBJECT`.
* Object keys are at most 1,024 bytes of UTF-8 (``KeyTooLongError``).
* ``x-amz-copy-source`` is ``[/]bucket/key[?versionId=id]``, percent-encoded: :func:`parse_copy_source`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_routing import Route
from kumoi.protocol.rest_values import UriError, percent_decode
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
