"""Which service and protocol does a request speak? Decided from cheap facts, before parsing.

In order: ``X-Amz-Target`` (json protocol), the SigV4 credential scope's service name (header or
presigned), a form-encoded body or an ``Action`` query parameter (query protocol), and otherwise S3
(rest-xml), path-style or virtual-host style (``<bucket>.<base domain>``, ``<bucket>.s3.<base>``).
The result is an immutable :class:`RoutingInfo`; the operation itself is found by the codec.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest

S3 = "s3"
_FORM_TYPE = "application/x-www-form-urlencoded"
_WEBSITE_LABEL = ".s3-website"
_WEBSITE_HOST = re.compile(r"(.+)\.s3-website(?:[.-][a-z0-9-]+)?")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


@dataclass(frozen=True, slots=True)
class RoutingInfo:
    service: str
    protocol: str
    bucket: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceRoutes:
    """What the router needs to know of one service."""

    name: str
    signing_name: str
    protocols: tuple[str, ...]
    json_target_prefix: str | None = None
    query_actions: frozenset[str] = frozenset()
    #: A service signed like S3 and told apart by its path and a header (S3 Control's
    #: ``/v20180820/`` and ``x-amz-account-id``).
    path_prefix: str = ""
    path_header: str = ""


def credential_scope_service(request: HttpRequest) -> str | None:
    """The service named in the SigV4 credential scope, if the request carries one."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        start = authorization.find("Credential=")
        if start < 0:
            return None
        end = authorization.find(",", start)
        credential = authorization[start + 11 : end if end >= 0 else None].strip()
    else:
        marker = "X-Amz-Credential="
        start = request.query_string.find(marker)
        if start < 0:
            return None
        end = request.query_string.find("&", start)
        credential = request.query_string[start + len(marker) : end if end >= 0 else None]
        credential = credential.replace("%2F", "/").replace("%2f", "/")
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else None


def split_host(host: str) -> str:
    """The host name of a Host header value, lower-cased, without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


#: Host header values whose verdict is remembered (clients send the same few, request after
#: request), and the longest remembered (a DNS name and a port): memory stays bounded.
HOST_CACHE_SIZE = 1024
HOST_CACHE_MAX_LENGTH = 270


class HostPolicy:
    """Which Host headers this server answers, so a web page cannot reach it by DNS rebinding.

    Allowed: IP literals, loopback names, the configured names, and the base domains with their
    subdomains. Everything else is refused before any service sees the request.
    """

    def __init__(self, base_domains: Iterable[str], extra_hosts: Iterable[str]) -> None:
        self.base_domains = tuple(d.lower().strip(".") for d in base_domains if d)
        self._names = _LOOPBACK_NAMES | {h.lower() for h in extra_hosts} | set(self.base_domains)
        self._suffixes = tuple("." + d for d in self.base_domains)
        self._verdicts: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._judge(host)
            if len(host) > HOST_CACHE_MAX_LENGTH:
                return verdict
            if len(self._verdicts) >= HOST_CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return verdict

    def _judge(self, host: str) -> bool:
        name = split_host(host)
        if not name:
            return False
        return name in self._names or name.endswith(self._suffixes) or _is_ip_literal(name)

    def website_bucket_of(self, host: str) -> str | None:
        """The bucket a static website endpoint names (``<bucket>.s3-website.<base>``, also with
        the region as ``s3-website-<region>`` or ``s3-website.<region>``), or None."""
        if _WEBSITE_LABEL not in host:
            return None
        name = split_host(host)
        for domain in self.base_domains:
            if name.endswith("." + domain):
                found = _WEBSITE_HOST.fullmatch(name[: -len(domain) - 1])
                if found is not None:
                    return found.group(1)
        return None

    def bucket_of(self, host: str) -> str | None:
        """The bucket a virtual-host style Host names, or None for path style."""
        name = split_host(host)
        for domain in self.base_domains:
            if name.endswith("." + domain):
                sub = name[: -len(domain) - 1]
                if sub == "s3":
                    return None
                if sub.endswith(".s3"):
                    return sub[:-3]
                return sub
        return None


class Router:
    """Maps a request to a :class:`RoutingInfo`. Built once from the registered services."""

    def __init__(self, services: Iterable[ServiceRoutes], hosts: HostPolicy) -> None:
        self._hosts = hosts
        # The answers for json targets and signing names, built once (they never change).
        self._by_signing_name: dict[str, RoutingInfo] = {}
        self._by_target: dict[str, RoutingInfo] = {}
        self._by_path: list[ServiceRoutes] = []
        action_owners: dict[str, list[str]] = {}
        for service in services:
            if service.path_prefix:
                self._by_path.append(service)
                continue
            self._by_signing_name[service.signing_name] = RoutingInfo(
                service.name, "query" if "query" in service.protocols else service.protocols[0]
            )
            if service.json_target_prefix:
                self._by_target[service.json_target_prefix] = RoutingInfo(service.name, "json")
            for action in service.query_actions:
                action_owners.setdefault(action, []).append(service.name)
        # An unsigned query request is routed by its Action only when one service owns that name.
        self._by_action: Mapping[str, str] = {a: o[0] for a, o in action_owners.items() if len(o) == 1}

    def route(self, request: HttpRequest, form: Mapping[str, str] | None = None) -> RoutingInfo:
        info, scope = self._route_declared(request)
        return info if info is not None else self._route_unsigned(request, scope, form)

    def route_without_form(self, request: HttpRequest) -> RoutingInfo | None:
        """:meth:`route`, or ``None`` when only the form body can tell the service
        (:meth:`needs_form`), deciding both from one look at the headers."""
        info, scope = self._route_declared(request)
        if info is not None:
            return info
        if scope is None and request.method == "POST" and _is_form(request):
            return None
        return self._route_unsigned(request, scope, None)

    def _route_declared(self, request: HttpRequest) -> tuple[RoutingInfo | None, str | None]:
        """The route a json target or a non-S3 credential scope declares, and the scope's service."""
        target = request.headers.get("x-amz-target")
        if target is not None:
            prefix = target.rsplit(".", 1)[0]
            info = self._by_target.get(prefix)
            if info is None:
                raise ServiceError("UnknownOperationException", f"Unknown target prefix {prefix!r}")
            return info, None
        scope = credential_scope_service(request)
        if scope is not None and scope != S3:
            info = self._by_signing_name.get(scope)
            if info is None:
                raise ServiceError("InvalidAction", f"kumoi does not serve the service {scope!r}", status=400)
            return info, scope
        return None, scope

    def _route_unsigned(
        self, request: HttpRequest, scope: str | None, form: Mapping[str, str] | None
    ) -> RoutingInfo:
        """Requests with neither a json target nor a non-S3 credential scope."""
        if scope is None and self._looks_like_query(request, form):
            action = (form or {}).get("Action") or dict(parse_qsl(request.query_string)).get("Action", "")
            owner = self._by_action.get(action)
            if owner is not None:
                return RoutingInfo(owner, "query")
        for service in self._by_path:
            if request.path.startswith(service.path_prefix) and service.path_header in request.headers:
                return RoutingInfo(service.name, service.protocols[0])
        return RoutingInfo(S3, "rest-xml", self._hosts.bucket_of(request.host))

    @staticmethod
    def _looks_like_query(request: HttpRequest, form: Mapping[str, str] | None) -> bool:
        if form is not None:
            return "Action" in form
        content_type = request.headers.get("content-type", "") or ""
        return content_type.startswith(_FORM_TYPE) or "Action=" in request.query_string

    def needs_form(self, request: HttpRequest) -> bool:
        """True when only the form body can tell the service (an unsigned form POST)."""
        return (
            request.method == "POST"
            and _is_form(request)
            and "x-amz-target" not in request.headers
            and credential_scope_service(request) is None
        )


def _is_form(request: HttpRequest) -> bool:
    content_type = request.headers.get("content-type", "") or ""
    return content_type.startswith(_FORM_TYPE)
