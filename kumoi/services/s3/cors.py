"""CORS: bucket rules, preflight (OPTIONS) answers, and CORS headers on actual responses.

Rules are kept as PutBucketCors received them, in the bucket's ``config["Cors"]``. A request
matches the first rule that allows its origin (one ``*`` wildcard allowed), its method and every
header it asks for (case-insensitively, wildcards too), as S3 evaluates them.

The preflight is the ``OptionsObject`` pseudo-operation (anonymous: browsers send no
credentials); the headers on actual responses come from :class:`CorsResponseHook`, which the
server runs after every S3 response and which costs nothing for requests without ``Origin``.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base
from kumoi.storage.meta.contract import MetadataStore

log = logging.getLogger("kumoi.s3.cors")

MAX_RULES = 100
ALLOWED_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)


def _wildcard_match(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]").replace("?", "[?]"))


def validate_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rules or len(rules) > MAX_RULES:
        raise errors.malformed_xml()
    for rule in rules:
        methods = rule.get("AllowedMethods") or []
        origins = rule.get("AllowedOrigins") or []
        if not methods or not origins:
            raise errors.malformed_xml()
        for method in methods:
            if method not in ALLOWED_METHODS:
                raise errors.invalid_request(
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for kind, values in (("AllowedOrigin", origins), ("AllowedHeader", rule.get("AllowedHeaders") or [])):
            for value in values:
                if value.count("*") > 1:
                    raise errors.invalid_request(f'{kind} "{value}" can not have more than one wildcard.')
    return rules


def matching_rule(
    rules: Iterable[Mapping[str, Any]], origin: str, method: str, headers: Iterable[str] = ()
) -> Mapping[str, Any] | None:
    wanted = [h.strip() for h in headers if h.strip()]
    for rule in rules:
        if method not in rule.get("AllowedMethods", ()):
            continue
        if not any(_wildcard_match(o, origin, fold=False) for o in rule.get("AllowedOrigins", ())):
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(any(_wildcard_match(a, h, fold=True) for a in allowed) for h in wanted):
            return rule
    return None


def _allow_origin(rule: Mapping[str, Any], origin: str) -> list[tuple[str, str]]:
    if "*" in rule.get("AllowedOrigins", ()):
        return [("Access-Control-Allow-Origin", "*")]
    return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]


def rule_headers(rule: Mapping[str, Any], origin: str) -> list[tuple[str, str]]:
    """The CORS headers of an actual (non-preflight) response that ``rule`` allows."""
    headers = _allow_origin(rule, origin)
    headers.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
    if rule.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if "MaxAgeSeconds" in rule:
        headers.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    headers.append(("Vary", _VARY))
    return headers


class CorsOperations(S3Base):
    async def put_bucket_cors(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rules = validate_rules(list((request.get("CORSConfiguration") or {}).get("CORSRules") or []))
        await self._set_bucket_setting(bucket, "Cors", rules)
        return {}

    async def get_bucket_cors(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        rules = bucket.config.get("Cors")
        if not rules:
            raise errors.no_bucket_configuration(
                "NoSuchCORSConfiguration", "The CORS configuration does not exist", bucket.name
            )
        return {"CORSRules": rules}

    async def delete_bucket_cors(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._remove_bucket_setting(bucket, "Cors")
        return {}

    async def options_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """A CORS preflight, answered from the bucket's rules (anonymous, as browsers send it)."""
        origin = request.get("Origin")
        if origin is None:
            raise ServiceError("BadRequest", "Insufficient information. Origin request header needed.")
        method = request.get("AccessControlRequestMethod")
        if method is None or method not in ALLOWED_METHODS:
            raise ServiceError("BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}")
        bucket = await self._meta.s3.get_bucket(request["Bucket"])
        if bucket is None:
            raise errors.no_such_bucket(request["Bucket"])
        rules = bucket.config.get("Cors")
        if not rules:
            raise ServiceError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", 403)
        asked = request.get("AccessControlRequestHeaders", "")
        wanted = [h.strip() for h in asked.split(",") if h.strip()]
        rule = matching_rule(rules, origin, method, wanted)
        if rule is None:
            raise ServiceError("AccessForbidden", _NOT_ALLOWED, 403)
        headers = rule_headers(rule, origin)
        if wanted:
            headers.append(("Access-Control-Allow-Headers", ", ".join(h.lower() for h in wanted)))
        return {"Status": 200, "Headers": headers, "Body": b""}


class CorsResponseHook:
    """Adds CORS headers to S3 responses of requests that carry ``Origin`` (the binding's ``after``)."""

    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta

    async def __call__(
        self, request: HttpRequest, response: HttpResponse, ctx: RequestContext | None
    ) -> None:
        origin = request.headers.get("origin")
        if origin is None or request.method == "OPTIONS":
            return
        name = request.path.removeprefix("/").partition("/")[0].partition("?")[0]
        if not name or "%" in name:
            return
        bucket = await self._meta.s3.get_bucket(name)
        if bucket is None or not bucket.config.get("Cors"):
            return
        rule = matching_rule(bucket.config["Cors"], origin, request.method)
        if rule is not None:
            response.headers.extend(rule_headers(rule, origin))
