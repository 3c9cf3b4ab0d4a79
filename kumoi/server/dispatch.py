"""Binding a provider's methods to a service's operations, once at start-up.

A provider implements an operation by defining ``async def <snake_name>(self, ctx, request)``
(``PutObject`` → ``put_object``). Operations without a method answer the AWS-style
"not implemented" error naming the operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from kumoi.core.context import RequestContext
from kumoi.core.http import AnonymousRead, HttpRequest, HttpResponse
from kumoi.protocol.base import ServiceCodec
from kumoi.server.route import ServiceRoutes

OperationHandler = Callable[[RequestContext, dict[str, Any]], Awaitable[Mapping[str, Any] | None]]
ResponseHook = Callable[[HttpRequest, HttpResponse, RequestContext | None], Awaitable[None]]
WebsiteHandler = Callable[[HttpRequest, str, AnonymousRead, str], Awaitable[HttpResponse]]


def method_name(operation: str) -> str:
    return str(xform_name(operation))


def bind_operations(provider: object, operations: Iterable[str]) -> dict[str, OperationHandler]:
    """The provider's bound methods by operation name, for the operations it implements."""
    handlers: dict[str, OperationHandler] = {}
    for operation in operations:
        method = getattr(provider, method_name(operation), None)
        if callable(method):
            handlers[operation] = method
    return handlers


@dataclass(frozen=True, slots=True)
class PeriodicTask:
    """Background work a service needs (expiry, retention, timers), run every ``interval`` seconds."""

    name: str
    interval: float
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ServiceBinding:
    """Everything the server needs to serve one service."""

    routes: ServiceRoutes
    codecs: Mapping[str, ServiceCodec]
    handlers: Mapping[str, OperationHandler]
    tasks: tuple[PeriodicTask, ...] = ()
    #: Operations an unsigned request may call (S3 browser POST uploads, CORS preflight); the
    #: provider then decides. Others answer AccessDenied to anonymous callers.
    anonymous_operations: frozenset[str] = frozenset()
    #: Runs on every response of this service, errors included (S3 adds CORS headers here).
    after: ResponseHook | None = None
    #: Answers requests to website endpoints (S3's ``<bucket>.s3-website.<base>`` hosts): given
    #: the request, the bucket, a way to read a key anonymously and the request id.
    website: WebsiteHandler | None = None
    #: Awaited once before the server listens (loading state the first requests need).
    startup: Callable[[], Awaitable[None]] | None = None
    #: Admin actions served as ``POST /_kumoi/<name>``: each runs once and answers a JSON document
    #: (S3's ``lifecycle`` runs a lifecycle pass now).
    admin_actions: Mapping[str, Callable[[], Awaitable[Mapping[str, Any]]]] = field(default_factory=dict)
    state: str = "running"

    @property
    def name(self) -> str:
        return self.routes.name
