"""Put/Get/DeleteBucketWebsite: a bucket's static website configuration, checked as S3 checks it.

A configuration either redirects every request (``RedirectAllRequestsTo``, alone) or names an
index document (``IndexDocument``, a suffix without ``/``), with an optional error document and
routing rules. :mod:`~kumoi.services.s3.website_endpoint` serves the website it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base

ATTR = "Website"
_PROTOCOLS = ("http", "https")


def validate_website(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` (the WebsiteConfiguration members) if S3 would accept it."""
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if any(member in config for member in ("IndexDocument", "ErrorDocument", "RoutingRules")):
            raise errors.invalid_argument(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                "RedirectAllRequestsTo",
                "not null",
            )
        if not redirect_all.get("HostName"):
            raise errors.malformed_xml()
        _check_protocol(redirect_all)
        return dict(config)
    index = config.get("IndexDocument")
    if index is None:
        raise errors.invalid_argument(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
            "IndexDocument",
            "null",
        )
    suffix = index.get("Suffix") or ""
    if not suffix or "/" in suffix:
        raise errors.invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    error_document = config.get("ErrorDocument")
    if error_document is not None and not error_document.get("Key"):
        raise errors.malformed_xml()
    for rule in config.get("RoutingRules") or ():
        _check_rule(rule)
    return dict(config)


def _check_rule(rule: Mapping[str, Any]) -> None:
    condition = rule.get("Condition")
    if condition is not None and not (
        condition.get("KeyPrefixEquals") is not None or condition.get("HttpErrorCodeReturnedEquals")
    ):
        raise errors.invalid_request(
            "Condition cannot be empty. To redirect all requests without a condition, the condition "
            "element shouldn't be present."
        )
    redirect = rule.get("Redirect")
    if redirect is None:
        raise errors.malformed_xml()
    if redirect.get("ReplaceKeyWith") is not None and redirect.get("ReplaceKeyPrefixWith") is not None:
        raise errors.invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    code = redirect.get("HttpRedirectCode")
    if code is not None and not (len(code) == 3 and code.isdigit() and code[0] == "3" and code != "300"):
        raise errors.invalid_request(
            f"The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
        )
    _check_protocol(redirect)


def _check_protocol(redirect: Mapping[str, Any]) -> None:
    protocol = redirect.get("Protocol")
    if protocol is not None and protocol not in _PROTOCOLS:
        raise errors.invalid_request(f"Invalid protocol, protocol can be http or https. Provided: {protocol}")


class WebsiteOperations(S3Base):
    async def put_bucket_website(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = validate_website(request.get("WebsiteConfiguration") or {})
        await self._set_bucket_setting(bucket, ATTR, config)
        return {}

    async def get_bucket_website(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = bucket.config.get(ATTR)
        if config is None:
            raise errors.no_bucket_configuration(
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
                bucket.name,
            )
        return dict(config)

    async def delete_bucket_website(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._remove_bucket_setting(bucket, ATTR)
        return {}
