"""The request pipeline: route → authenticate → decode → provider → encode, with one error path.

:class:`Application` is the handler the HTTP edge calls for every request. It never lets an
exception escape: AWS errors are encoded by the request's protocol, anything unexpected becomes a
500 ``InternalError`` carrying the request id (the traceback goes to the log only). Every request
ends with one access-log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, Literal, NamedTuple
from urllib.parse import quote, unquote_plus

from kumoi.auth.errors import MISSING_AUTH, error_for
from kumoi.auth.sigv4 import AuthResult, SigV4Verifier, anonymous_result
from kumoi.core.authz import Authorizer, default_check
from kumoi.core.context import RequestContext
from kumoi.core.errors import AuthFailure, ServiceError, internal_error, not_implemented
from kumoi.core.http import Headers, HttpRequest, HttpResponse
from kumoi.core.ids import unique_hex, unique_uuid
from kumoi.core.streams import MAX_DOCUMENT_BODY, BodyTooLarge, BytesBody, read_limited
from kumoi.protocol.base import DecodedRequest, ServiceCodec
from kumoi.protocol.xml import XmlWriter
from kumoi.server import access_log
from kumoi.server.dispatch import ServiceBinding, WebsiteHandler
from kumoi.server.internal import InternalEndpoints
from kumoi.server.route import HostPolicy, Router, RoutingInfo

log = logging.getLogger("kumoi.server")
#: The Host of the reads a website endpoint makes through the pipeline: path style, never a
#: website host again.
_LOOPBACK_HOST = "127.0.0.1"

AuthFamily = Literal["s3", "query", "json"]
_FAMILY: dict[str, AuthFamily] = {"rest-xml": "s3", "query": "query", "json": "json"}


class _Outcome(NamedTuple):
    response: HttpResponse
    service: str
    operation: str
    request_id: str


class Application:
    """Serves every registered service on one port."""

    def __init__(
        self,
        services: Mapping[str, ServiceBinding],
        router: Router,
        hosts: HostPolicy,
        verifier: SigV4Verifier,
        internal: InternalEndpoints,
        default_region: str,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._services = services
        self._router = router
        self._hosts = hosts
        self._verifier = verifier
        self._internal = internal
        self._default_region = default_region
        self._authorizer = authorizer
        self._website = next((b.website for b in services.values() if b.website is not None), None)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        outcome = await self._handle(request)
        if access_log.enabled():
            access_log.log_request(
                request.remote_addr,
                request.method,
                outcome.service,
                outcome.operation or request.path,
                outcome.response.status,
                (time.perf_counter() - started) * 1000,
                outcome.request_id,
            )
        return outcome.response

    async def _handle(self, request: HttpRequest) -> _Outcome:
        if request.path.startswith(InternalEndpoints.PREFIXES):
            try:
                response = await self._internal.handle(request)
            except Exception:
                request_id = _new_request_id("json")
                log.exception("internal endpoint %s failed (request id %s)", request.path, request_id)
                response = _plain_error(internal_error(request_id), request_id)
            if response is not None:
                return _Outcome(response, "-", "", _request_id_of(response))
        if not self._hosts.allows(request.host):
            refusal = _host_refused(request.host)
            return _Outcome(refusal, "-", "", _request_id_of(refusal))
        if self._website is not None:
            bucket = self._hosts.website_bucket_of(request.host)
            if bucket is not None:
                return await self._serve_website(request, bucket, self._website)
        try:
            routing = self._router.route_without_form(request) or await self._route_by_form(request)
        except ServiceError as error:
            request_id = _new_request_id("json")
            return _Outcome(_plain_error(error, request_id), "-", "", request_id)
        binding = self._services[routing.service]
        codec = binding.codecs[routing.protocol]
        request_id = _new_request_id(routing.protocol)
        operation = ""
        context: RequestContext | None = None
        try:
            # Verify the signature, then parse.
            try:
                auth = await self._verifier.authenticate(
                    request, s3=routing.protocol == "rest-xml", virtual_host_bucket=routing.bucket
                )
            except AuthFailure as failure:
                auth, decoded = await self._anonymous(request, failure, binding, codec)
            else:
                if routing.bucket is not None:
                    request.path = "/" + routing.bucket + request.path
                decoded = await codec.decode(request)
            operation = decoded.operation
            handler = binding.handlers.get(operation)
            if handler is None:
                raise not_implemented(binding.name, operation)
            context = self._context(request, request_id, binding.name, operation, auth, decoded.params)
            if operation not in binding.anonymous_operations:
                if self._authorizer is not None:
                    await self._authorizer.authorize(context, decoded.params)
                else:
                    default_check(context)
            output = await handler(context, decoded.params)
            response = codec.encode(operation, output or {}, request_id)
        except AuthFailure as failure:
            response = self._error(
                codec, error_for(failure, _FAMILY[routing.protocol]), request_id, operation
            )
        except ServiceError as error:
            response = self._error(codec, error, request_id, operation)
        except BodyTooLarge as exc:
            too_large = ServiceError(
                "RequestEntityTooLarge", f"Request body exceeds {exc.limit} bytes", status=413
            )
            response = self._error(codec, too_large, request_id, operation)
        except Exception:
            log.exception(
                "internal error in %s %s (request id %s)", binding.name, operation or "?", request_id
            )
            response = self._error(codec, internal_error(request_id), request_id, operation)
        if routing.protocol != "rest-xml" and response.header("x-amzn-requestid") is None:
            response.headers.append(("x-amzn-RequestId", request_id))
        if binding.after is not None:
            try:
                await binding.after(request, response, context)
            except Exception:
                log.exception("response hook of %s failed (request id %s)", binding.name, request_id)
        return _Outcome(response, binding.name, operation, request_id)

    async def _serve_website(self, request: HttpRequest, bucket: str, website: WebsiteHandler) -> _Outcome:
        request_id = _new_request_id("rest-xml")
        try:
            response = await website(request, bucket, partial(self._read_anonymously, request), request_id)
        except Exception:
            log.exception("website endpoint of %s failed (request id %s)", bucket, request_id)
            response = _plain_error(internal_error(request_id), request_id)
        return _Outcome(response, "s3", "WebsiteRead", request_id)

    async def _read_anonymously(
        self, origin: HttpRequest, method: str, bucket: str, key: str, headers: list[tuple[str, str]]
    ) -> HttpResponse:
        """An unsigned, path-style GetObject (HeadObject for ``HEAD``) of ``bucket``/``key``, run
        through the whole pipeline as a request from nobody at ``origin``'s address and scheme (a
        bucket policy's ``aws:SourceIp`` and ``aws:SecureTransport`` see the browser's)."""
        path = "/" + quote(bucket, safe="") + "/" + quote(key, safe="/")
        read = HttpRequest(
            method,
            path,
            "",
            Headers([("host", _LOOPBACK_HOST), *headers]),
            BytesBody(),
            remote_addr=origin.remote_addr,
            scheme=origin.scheme,
        )
        return (await self._handle(read)).response

    async def _anonymous(
        self, request: HttpRequest, failure: AuthFailure, binding: ServiceBinding, codec: ServiceCodec
    ) -> tuple[AuthResult, DecodedRequest]:
        """A request whose signature did not verify. An unsigned query/json request is let through
        only to an operation its service lists as anonymous (STS's web-identity and SAML
        federation calls, which SDKs send unsigned); S3 decides about anonymous callers itself.
        Anything else raises ``failure``."""
        if failure.kind != MISSING_AUTH or not binding.anonymous_operations:
            raise failure
        decoded = await codec.decode(request)
        if decoded.operation not in binding.anonymous_operations:
            raise failure
        return anonymous_result(self._default_region, binding.routes.signing_name), decoded

    async def _route_by_form(self, request: HttpRequest) -> RoutingInfo:
        """The route of an unsigned form POST, which only its form's ``Action`` tells."""
        try:
            body = await read_limited(request.body, MAX_DOCUMENT_BODY)
        except BodyTooLarge:
            raise ServiceError("RequestEntityTooLarge", "Request body is too large", status=413) from None
        request.set_document(body)
        try:
            action = form_action(body.decode("utf-8"))
        except UnicodeDecodeError:
            action = None
        return self._router.route(request, {} if action is None else {"Action": action})

    def _context(
        self,
        request: HttpRequest,
        request_id: str,
        service: str,
        operation: str,
        auth: AuthResult,
        params: Mapping[str, Any],
    ) -> RequestContext:
        host = request.host
        return RequestContext(
            request_id=request_id,
            service=service,
            operation=operation,
            region=auth.region or self._default_region,
            caller=auth.caller,
            base_url=f"{request.scheme}://{host}",
            host=host,
            remote_addr=request.remote_addr,
            params=params,
        )

    @staticmethod
    def _error(codec: ServiceCodec, error: ServiceError, request_id: str, operation: str) -> HttpResponse:
        try:
            return codec.encode_error(error, request_id, operation or None)
        except Exception:
            log.exception("could not encode error %s (request id %s)", error.code, request_id)
            return _plain_error(internal_error(request_id), request_id)


def form_action(form: str) -> str | None:
    """``dict(parse_qsl(form, keep_blank_values=True)).get("Action")``, decoding only the value
    routing needs: the codec parses the whole form once it knows the service."""
    found = None
    for piece in form.split("&"):
        name, _, value = piece.partition("=")
        if name != _ACTION and ("%" in name or "+" in name):
            name = unquote_plus(name)
        if name == _ACTION:
            found = value
    return None if found is None else unquote_plus(found)


_ACTION = "Action"


def _new_request_id(protocol: str) -> str:
    """A request id in the form each protocol's AWS service uses."""
    if protocol == "rest-xml":
        return unique_hex(64)
    return unique_uuid()


def _request_id_of(response: HttpResponse) -> str:
    return response.header("x-amz-request-id") or response.header("x-amzn-requestid") or "-"


def _plain_error(error: ServiceError, request_id: str) -> HttpResponse:
    """An error for a request no service claimed: S3-style XML, the most common client."""
    writer = XmlWriter()
    writer.start("Error")
    writer.element("Code", error.code)
    writer.element("Message", error.message)
    writer.element("RequestId", request_id)
    writer.end("Error")
    return HttpResponse(
        status=error.status,
        headers=[("Content-Type", "application/xml"), ("x-amz-request-id", request_id)],
        body=writer.getvalue(),
    )


def _host_refused(host: str) -> HttpResponse:
    error = ServiceError(
        "InvalidHostHeader",
        f"kumoi does not serve the host {host!r}. Add it with --hostnames / KUMOI_HOSTNAMES if it is yours.",
        status=400,
    )
    return _plain_error(error, _new_request_id("rest-xml"))
