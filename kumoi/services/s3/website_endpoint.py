"""Static website endpoints: ``http://<bucket>.s3-website.<base domain>/path`` serves a bucket's
objects to browsers as S3's website endpoints do.

Only GET and HEAD, always anonymous: an object is served if anyone may read it (a bucket policy
or ACL granting public read), exactly as an unsigned GetObject would be. A path names a key; a
path ending in ``/`` (or the root) names that folder's index document (``IndexDocument``'s
suffix), and a key that does not exist but has an index document under it redirects to the
folder (302). ``RedirectAllRequestsTo`` redirects everything (301), as does an object stored with
a ``WebsiteRedirectLocation``; routing rules redirect by key prefix before the read and by the
error the read met after it. Errors are HTML pages, or the
bucket's error document (served with the error's status) when it names a readable object.

The reads themselves are ordinary anonymous GetObject/HeadObject requests made through the
server's own pipeline (``fetch``), so ranges, conditional headers, encryption at rest and access
control behave as they do on the REST endpoint.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from kumoi.core.http import AnonymousRead, HttpRequest, HttpResponse
from kumoi.services.s3.website import ATTR
from kumoi.storage.meta.contract import MetadataStore

#: Request headers a read passes on to GetObject (ranges and conditional requests).
_PASSED_ON = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_TITLES = {403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed"}
_CODES = {403: ("AccessDenied", "Access Denied"), 404: ("NoSuchKey", "The specified key does not exist.")}


class WebsiteEndpoint:
    """Answers requests to website endpoints from the bucket's website configuration."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta

    async def handle(
        self, request: HttpRequest, bucket_name: str, fetch: AnonymousRead, request_id: str
    ) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return _page(
                405,
                request_id,
                ("MethodNotAllowed", "The specified method is not allowed against this resource."),
                [("Method", request.method), ("ResourceType", "OBJECT")],
            )
        bucket = await self._meta.s3.get_bucket(bucket_name)
        config: Mapping[str, Any] | None = None if bucket is None else bucket.config.get(ATTR)
        if config is None:
            missing = (
                ("NoSuchBucket", "The specified bucket does not exist")
                if bucket is None
                else (
                    "NoSuchWebsiteConfiguration",
                    "The specified bucket does not have a website configuration",
                )
            )
            return _page(404, request_id, missing, [("BucketName", bucket_name)])
        redirect_all = config.get("RedirectAllRequestsTo")
        if redirect_all is not None:
            target = (
                f"{redirect_all.get('Protocol') or request.scheme}://{redirect_all['HostName']}{request.path}"
            )
            return _redirect(301, target, request_id)
        key = unquote(request.path[1:])
        rule = _matching_rule(config, key, None)
        if rule is not None:
            return _redirect_by(rule, key, request, request_id)
        suffix = config["IndexDocument"]["Suffix"]
        wanted = key + suffix if key == "" or key.endswith("/") else key
        passed = [(name, value) for name, value in request.headers.items() if name in _PASSED_ON]
        response = await fetch(request.method, bucket_name, wanted, passed)
        if response.status < 400:
            location = response.header("x-amz-website-redirect-location")
            if location is not None:
                return _redirect(301, location, request_id)
            return response
        if response.status in _CODES and wanted == key:  # 403 too: absence shows as 403 without ListBucket
            folder = await fetch("HEAD", bucket_name, f"{key}/{suffix}", [])
            if folder.status == 200:
                return _redirect(302, f"/{request.path[1:]}/", request_id)
        rule = _matching_rule(config, key, response.status)
        if rule is not None:
            return _redirect_by(rule, key, request, request_id)
        if response.status not in _CODES:
            return response
        error_key = (config.get("ErrorDocument") or {}).get("Key")
        if error_key:
            document = await fetch(request.method, bucket_name, error_key, [])
            if document.status == 200:
                document.status = response.status
                return document
        fields = [("Key", wanted)] if response.status == 404 else []
        return _page(response.status, request_id, _CODES[response.status], fields)


def _matching_rule(config: Mapping[str, Any], key: str, status: int | None) -> Mapping[str, Any] | None:
    """The first routing rule whose condition holds for ``key`` (before the read when ``status`` is
    None, after a read that failed with ``status`` otherwise)."""
    rules: list[Mapping[str, Any]] = config.get("RoutingRules") or []
    for rule in rules:
        condition = rule.get("Condition") or {}
        prefix = condition.get("KeyPrefixEquals")
        code = condition.get("HttpErrorCodeReturnedEquals")
        if prefix is not None and not key.startswith(prefix):
            continue
        if code is None and status is None:
            return rule
        if code is not None and status is not None and code == str(status):
            return rule
    return None


def _redirect_by(rule: Mapping[str, Any], key: str, request: HttpRequest, request_id: str) -> HttpResponse:
    redirect = rule["Redirect"]
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
    if redirect.get("ReplaceKeyWith") is not None:
        key = redirect["ReplaceKeyWith"]
    elif redirect.get("ReplaceKeyPrefixWith") is not None:
        key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix) :]
    protocol = redirect.get("Protocol") or request.scheme
    host = redirect.get("HostName") or request.host
    return _redirect(int(redirect.get("HttpRedirectCode") or 301), f"{protocol}://{host}/{key}", request_id)


def _redirect(status: int, location: str, request_id: str) -> HttpResponse:
    return HttpResponse(status=status, headers=[("Location", location), ("x-amz-request-id", request_id)])


def _page(
    status: int, request_id: str, error: tuple[str, str], fields: list[tuple[str, str]]
) -> HttpResponse:
    """S3's HTML error page of a website endpoint."""
    title = _TITLES.get(status, str(status))
    items = [("Code", error[0]), ("Message", error[1]), *fields, ("RequestId", request_id)]
    listed = "".join(f"<li>{name}: {html.escape(value)}</li>\n" for name, value in items)
    body = (
        f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n{listed}</ul>\n"
        "<hr/>\n</body>\n</html>\n"
    ).encode()
    return HttpResponse(
        status=status,
        headers=[("Content-Type", "text/html; charset=utf-8"), ("x-amz-request-id", request_id)],
        body=body,
    )
