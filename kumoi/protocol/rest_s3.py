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
* ``PutBucketPolicy`` and ``PutBucketTagging`` answer 204, which the model does not say:
  :data:`NO_CONTENT_OPERATIONS`.
* Operations the model marks ``httpChecksum.requestChecksumRequired`` (DeleteObjects, the
  bucket configuration PUTs, PutObjectTagging...) are refused without ``Content-MD5`` or an
  ``x-amz-checksum-*`` header, and a document body is checked against the ones it carries:
  :func:`check_document_integrity`.
* ``x-amz-copy-source`` is ``[/]bucket/key[?versionId=id]``, percent-encoded: :func:`parse_copy_source`.
* Listings are S3's hottest documents (1,000 ``<Contents>`` per page): :func:`contents_writer`
  renders each entry with one string build instead of a writer call per member
  (:data:`WRITER_OVERRIDES`), from :data:`ListedEntry` tuples the provider builds instead of a
  mapping per entry; entries it does not know fall back to the compiled writer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from kumoi.core.checksums import HEADER_PREFIX, checksum_for_header
from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpResponse
from kumoi.protocol.rest_routing import Route
from kumoi.protocol.rest_values import UriError, format_iso8601, percent_decode, seconds_text
from kumoi.protocol.xml import escape_text, needs_escape

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
#: An output member the model lacks, for answers whose status varies: RestoreObject answers 202
#: when it starts a restore and 200 when the object is already restored.
STATUS_MEMBER = "HttpStatus"
#: Operations S3 answers with 204 No Content although the model gives them no response code (the
#: API reference's sample responses); the Delete* operations already carry 204 in the model.
NO_CONTENT = 204
NO_CONTENT_OPERATIONS = frozenset({"PutBucketPolicy", "PutBucketTagging"})
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


def checksum_required(http_checksum: Mapping[str, Any]) -> bool:
    """Whether an operation's ``httpChecksum`` trait makes S3 refuse a request without an
    integrity header."""
    return bool(http_checksum.get("requestChecksumRequired"))


def checksums_body(http_checksum: Mapping[str, Any]) -> bool:
    """Whether an operation's ``x-amz-checksum-*`` headers are checksums of its request body: the
    ones SDKs add where the trait asks for one (``requestAlgorithmMember`` or
    ``requestChecksumRequired``). CompleteMultipartUpload's, say, are the whole object's."""
    return "requestAlgorithmMember" in http_checksum or checksum_required(http_checksum)


def check_document_integrity(headers: Headers, data: bytes, *, required: bool) -> None:
    """Check an XML document body against its ``Content-MD5`` and ``x-amz-checksum-<alg>``
    headers (``InvalidDigest``, ``BadDigest``); with ``required``, one of them (or an
    ``x-amz-trailer`` naming a checksum, which the SigV4 layer's stream verifies) must be there."""
    content_md5 = headers.get("content-md5")
    declared = [
        (name, value)
        for name, value in headers.items()
        if name.startswith(HEADER_PREFIX) and name not in _NOT_CHECKSUMS
    ]
    if required and content_md5 is None and not declared:
        trailer = headers.get("x-amz-trailer") or ""
        if not trailer.lower().startswith(HEADER_PREFIX):
            raise ServiceError("InvalidRequest", _MISSING_INTEGRITY, 400)
    if content_md5 is not None:
        _check_content_md5(content_md5, data)
    for name, value in declared:
        checksum = checksum_for_header(name)
        if checksum is None:
            continue  # an algorithm kumoi does not compute (SHA-512, XXHASH...)
        checksum.update(data)
        if checksum.b64digest() != value.strip():
            raise ServiceError(
                "BadDigest",
                f"The {checksum.algorithm.upper()} you specified did not match the calculated checksum.",
                400,
            )


#: ``x-amz-checksum-*`` headers that are not checksums.
_NOT_CHECKSUMS = frozenset({HEADER_PREFIX + "type", HEADER_PREFIX + "mode", HEADER_PREFIX + "algorithm"})
_MISSING_INTEGRITY = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"


def _check_content_md5(value: str, data: bytes) -> None:
    try:
        sent = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        sent = b""
    if len(sent) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    computed = hashlib.md5(data).digest()
    if sent != computed:
        raise ServiceError(
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
            400,
            fields={"ExpectedDigest": value, "CalculatedDigest": base64.b64encode(computed).decode()},
        )


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


#: What S3 accepts on a multipart upload (a query naming ``uploadId``): ListParts, Complete, Abort.
_UPLOAD_METHODS = "DELETE, POST, GET"
#: Operations on the object that a PUT naming an upload would otherwise fall back to.
_OBJECT_PUTS = frozenset({"PutObject", "CopyObject"})


def check_upload_addressed(method: str, operation: str, query: Mapping[str, object]) -> None:
    """A PUT with ``uploadId`` addresses the upload, not the object: without ``partNumber`` (an
    UploadPart that is not one) S3 answers ``MethodNotAllowed`` for the ``UPLOAD`` resource
    rather than writing the object."""
    if operation in _OBJECT_PUTS and "uploadId" in query:
        error = method_not_allowed(method, "UPLOAD")
        error.headers["Allow"] = _UPLOAD_METHODS
        raise error


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
#: The members each entry has its own value of, and the shared ones of a :data:`ListedEntry`
#: (others go to the compiled writer).
_OWN_MEMBERS = frozenset({"Key", "LastModified", "ETag", "Size"})
_SHARED_MEMBERS = _CONTENTS_MEMBERS - _OWN_MEMBERS
#: The shared members S3 sends between ``ETag`` and ``Size``.
_BEFORE_SIZE = ("ChecksumAlgorithm", "ChecksumType")
_MemberWriter = Callable[[list[str], Any], None]


#: One ``<Contents>`` entry of ListObjects/ListObjectsV2 in the form :func:`contents_writer`
#: renders fastest (a plain tuple: a page builds a thousand of them): ``Key``, ``LastModified``
#: (seconds since the epoch), ``ETag``, ``Size``, and the Object shape's other members
#: (``ChecksumAlgorithm``, ``ChecksumType``, ``StorageClass``, ``Owner``) in one mapping, the
#: same mapping for all the entries of a page that have the same values.
ListedEntry = tuple[str, float, str, int, Mapping[str, Any]]


def entry_members(entry: ListedEntry) -> dict[str, Any]:
    """A :data:`ListedEntry` as the Object shape's member values, in the shape's order (what the
    compiled writer takes)."""
    key, modified, etag, size, shared = entry
    members = {"Key": key, "LastModified": modified, "ETag": etag}
    members.update((name, shared[name]) for name in _BEFORE_SIZE if name in shared)
    members["Size"] = size
    members.update((name, value) for name, value in shared.items() if name not in _BEFORE_SIZE)
    return members


def contents_writer(compiled: _MemberWriter) -> _MemberWriter:
    """The ``<Contents>`` entries of ListObjects/ListObjectsV2, one string build per entry.

    Entries are :data:`ListedEntry` tuples or member mappings (pages that carry
    ``RestoreStatus``). What repeats across a page is rendered once per distinct value and
    reused: the checksum members before ``<Size>`` and the members after it, and the date part
    of timestamps (keys written together share their second, and neighbours mostly share both).
    Text is escaped only when it holds a character that needs it.
    Members in S3's order: ``Key``, ``LastModified``, ``ETag``, ``ChecksumAlgorithm``,
    ``ChecksumType``, ``Size``, ``StorageClass``, ``Owner``.

    :data:`ListedEntry` tuples go through :func:`_write_listed` (a page made only of them, the
    usual case, in one call); mappings through the loop here.
    """

    def write(parts: list[str], items: list[Any]) -> None:
        if _ALL_TUPLES.issuperset(map(type, items)):
            _write_listed(parts, items, compiled)
            return
        append = parts.append
        by_value: dict[tuple[Any, ...], tuple[str, str]] = {}
        for item in items:
            if type(item) is tuple:
                _write_listed(parts, [item], compiled)
                continue
            found = _mapping_pieces(item, by_value)
            if found is None:
                compiled(parts, [item])
                continue
            before, after = found
            key, modified, etag, size = item["Key"], item["LastModified"], item["ETag"], int(item["Size"])
            stamp = format_iso8601(modified)
            key, etag = escape_text(key), escape_text(etag)
            append(
                f"<Contents><Key>{key}</Key><LastModified>{stamp}</LastModified><ETag>{etag}{before}{size}{after}"
            )

    return write


_ALL_TUPLES = frozenset({tuple})
#: The end of a ``<LastModified>`` by its milliseconds: ``.617Z</LastModified><ETag>``.
_MILLIS = tuple(f".{millis:03d}Z</LastModified><ETag>" for millis in range(1000))
_first = itemgetter(0)
_third = itemgetter(2)


def _write_listed(parts: list[str], items: list[ListedEntry], compiled: _MemberWriter) -> None:
    """:func:`contents_writer` for a page of :data:`ListedEntry` tuples. Whether any key or ETag
    needs escaping is asked once of the page's keys and ETags joined (a few vectorised scans
    instead of a call per value; in the usual page none does), and the text between an entry's
    values comes from tables: the date and second of its timestamp (shared by neighbours), its
    milliseconds, and its shared members."""
    append = parts.append
    escape_keys = needs_escape("".join(map(_first, items)))
    escape_etags = needs_escape("".join(map(_third, items)))
    millis = _MILLIS
    by_identity: dict[int, tuple[str, str] | None] = {}
    last_shared: Any = _UNSEEN
    pieces: tuple[str, str] | None = None
    before = after = ""
    last_seconds = -1
    date = ""
    for item in items:
        key, modified, etag, size, shared = item
        if shared is not last_shared:
            last_shared = shared
            pieces = by_identity.get(id(shared), _UNSEEN)
            if pieces is _UNSEEN:
                pieces = by_identity[id(shared)] = _shared_pieces(shared)
            if pieces is not None:
                before, after = pieces
        if pieces is None:
            compiled(parts, [entry_members(item)])
            continue
        # format_iso8601's rounding, inline: a call per entry cost a tenth of the page's encoding.
        seconds = int(modified)
        micros = round((modified - seconds) * 1_000_000)
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        milliseconds = micros // 1000
        if seconds != last_seconds:
            last_seconds = seconds
            date = f"</Key><LastModified>{seconds_text(seconds)}"
        if escape_keys:
            key = escape_text(key)
        if escape_etags:
            etag = escape_text(etag)
        append(f"<Contents><Key>{key}{date}{millis[milliseconds]}{etag}{before}{size}{after}")


def _mapping_pieces(
    item: Mapping[str, Any], cache: dict[tuple[Any, ...], tuple[str, str]]
) -> tuple[str, str] | None:
    """The pieces of an entry given as member values; None if it has members the fast writer does
    not render, or lacks one it needs."""
    if not _CONTENTS_MEMBERS.issuperset(item) or not _OWN_MEMBERS.issubset(item):
        return None
    owner = item.get("Owner")
    shared = (
        tuple(item.get("ChecksumAlgorithm") or ()),
        item.get("ChecksumType"),
        item.get("StorageClass"),
        None if owner is None else (owner.get("DisplayName"), owner.get("ID")),
    )
    found = cache.get(shared)
    if found is None:
        found = cache[shared] = _pieces(*shared)
    return found


#: Not looked up yet (None: members the fast writer does not render).
_UNSEEN: Any = object()


def _shared_pieces(shared: Mapping[str, Any]) -> tuple[str, str] | None:
    if not _SHARED_MEMBERS.issuperset(shared):
        return None
    owner = shared.get("Owner")
    return _pieces(
        tuple(shared.get("ChecksumAlgorithm") or ()),
        shared.get("ChecksumType"),
        shared.get("StorageClass"),
        None if owner is None else (owner.get("DisplayName"), owner.get("ID")),
    )


def _pieces(
    algorithms: tuple[str, ...],
    kind: str | None,
    storage_class: str | None,
    owner: tuple[str | None, ...] | None,
) -> tuple[str, str]:
    """The text of an entry from the end of its ETag's value to its size's, and after that."""
    before = "</ETag>" + "".join(
        f"<ChecksumAlgorithm>{escape_text(a)}</ChecksumAlgorithm>" for a in algorithms
    )
    if kind is not None:
        before += f"<ChecksumType>{escape_text(kind)}</ChecksumType>"
    before += "<Size>"
    after = "</Size>"
    if storage_class is not None:
        after += f"<StorageClass>{escape_text(storage_class)}</StorageClass>"
    if owner is not None:
        name, owner_id = owner
        after += "<Owner>"
        if name is not None:
            after += f"<DisplayName>{escape_text(name)}</DisplayName>"
        if owner_id is not None:
            after += f"<ID>{escape_text(owner_id)}</ID>"
        after += "</Owner>"
    return before, after + "</Contents>"


#: Hand-written writers of hot members, by (structure shape, member): see :func:`contents_writer`.
WRITER_OVERRIDES: dict[tuple[str, str], Callable[[_MemberWriter], _MemberWriter]] = {
    ("ListObjectsV2Output", "Contents"): contents_writer,
    ("ListObjectsOutput", "Contents"): contents_writer,
}
