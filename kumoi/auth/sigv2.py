"""S3's legacy signature version 2 (HMAC-SHA1), still what boto3 presigns with by default.

botocore presigns S3 URLs with SigV2 (``?AWSAccessKeyId=..&Signature=..&Expires=..``) unless the
client is configured for ``s3v4`` or its region only accepts SigV4, so us-east-1 users of
``generate_presigned_url`` send these. The same string to sign serves the ``Authorization: AWS
<key>:<signature>`` header form. Per the S3 documentation (RESTAuthentication)::

    StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
                   CanonicalizedAmzHeaders CanonicalizedResource

``CanonicalizedAmzHeaders`` are the ``x-amz-*`` headers (for a presigned URL also ``x-amz-*``
query parameters, where clients put them), lower-cased and sorted, one ``name:value\\n`` each.
``CanonicalizedResource`` is ``/bucket/key`` as sent (the bucket included for virtual-hosted
requests; a bare bucket is ``/bucket/``) plus the sub-resources of the query, sorted, values
decoded. When ``x-amz-date`` is sent, the Date line is empty (the date is signed through
``x-amz-date``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote

from kumoi.core.http import HttpRequest

#: Query parameters that are part of the signed resource (the S3 documentation's sub-resources).
SUBRESOURCES = frozenset(
    {
        "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle", "location",
        "logging", "metrics", "notification", "object-lock", "partNumber", "policy", "replication",
        "requestPayment", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language", "response-content-type",
        "response-expires", "restore", "select", "select-type", "storageClass", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's (name, percent-decoded value) pairs; a bare name has the value ``""``."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((name, unquote(value)))
    return pairs


def string_to_sign(
    request: HttpRequest, date_line: str, query: list[tuple[str, str]], bucket: str | None
) -> str:
    headers = request.headers
    amz: dict[str, list[str]] = {}
    for name, value in headers.items():
        if name.startswith("x-amz-"):
            amz.setdefault(name, []).append(value.strip())
    resource_params: list[tuple[str, str]] = []
    raw = {piece.partition("=")[0] for piece in request.query_string.split("&") if "=" not in piece}
    for name, value in query:
        lowered = name.lower()
        if lowered.startswith("x-amz-"):
            amz.setdefault(lowered, []).append(value.strip())
        elif name in SUBRESOURCES:
            resource_params.append((name, value))
    amz_block = "".join(f"{name}:{','.join(amz[name])}\n" for name in sorted(amz))
    resource = f"/{bucket}{request.path}" if bucket else request.path
    if resource.count("/") == 1 and len(resource) > 1:
        resource += "/"  # a bucket is signed as "/bucket/" however the path was written
    if resource_params:
        resource_params.sort(key=lambda pair: pair[0])
        resource += "?" + "&".join(
            name if name in raw else f"{name}={value}" for name, value in resource_params
        )
    return (
        f"{request.method}\n{(headers.get('content-md5') or '').strip()}\n"
        f"{(headers.get('content-type') or '').strip()}\n{date_line}\n{amz_block}{resource}"
    )


def signature(secret: str, to_sign: str) -> str:
    # hmac.new, not hmac.digest: the one-shot form releases the GIL (see canonical.sign).
    digest = hmac.new(
        secret.encode("utf-8"), to_sign.encode("utf-8", "surrogateescape"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")
