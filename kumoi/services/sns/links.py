"""The links in delivered messages: unsigned GETs of SigningCertURL, SubscribeURL, UnsubscribeURL.

A receiver fetches ``SigningCertURL`` to verify signatures, and visits ``SubscribeURL`` (or
``UnsubscribeURL``) with a plain browser-style GET, as it would at AWS. These URLs point at
kumoi's endpoint with an ``Action`` query parameter, so the router hands them to SNS; the
server's pipeline, however, refuses unsigned query-protocol requests before any SNS code runs.
:class:`LinkResponder` is SNS's response hook: for an unsigned GET of one of these actions it
replaces that refusal with the real answer (the PEM certificate, or the result of
ConfirmSubscription / Unsubscribe run as an anonymous caller). ``GetSigningCertificate`` is a
kumoi pseudo action: the SNS model has no such operation.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from kumoi.core.context import Caller, RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.protocol.base import ServiceCodec
from kumoi.services.sns.envelope import CERTIFICATE_ACTION

LinkOperation = Callable[[RequestContext, Any], Awaitable[Mapping[str, Any] | None]]
#: Link actions and the input members each takes from the query string (required ones first).
LINK_PARAMETERS: dict[str, tuple[str, ...]] = {
    "ConfirmSubscription": ("TopicArn", "Token", "AuthenticateOnUnsubscribe"),
    "Unsubscribe": ("SubscriptionArn",),
}
REQUIRED = {"ConfirmSubscription": ("TopicArn", "Token"), "Unsubscribe": ("SubscriptionArn",)}
ANONYMOUS = Caller(account_id="", arn="anonymous", user_id="anonymous", access_key_id="")


def _is_signed(request: HttpRequest) -> bool:
    return "authorization" in request.headers or "X-Amz-Credential=" in request.query_string


class LinkResponder:
    def __init__(
        self,
        codec: ServiceCodec,
        operations: Mapping[str, LinkOperation],
        certificate: Callable[[], bytes],
        region: str,
    ) -> None:
        self._codec = codec
        self._operations = operations
        self._certificate = certificate
        self._region = region

    async def __call__(
        self, request: HttpRequest, response: HttpResponse, context: RequestContext | None
    ) -> None:
        if request.method != "GET" or response.status < 400 or _is_signed(request):
            return
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))
        action = query.get("Action", "")
        if action == CERTIFICATE_ACTION:
            _replace(
                response, HttpResponse(200, [("Content-Type", "application/x-pem-file")], self._certificate())
            )
        elif action in LINK_PARAMETERS:
            _replace(response, await self._run(request, action, query))

    async def _run(self, request: HttpRequest, action: str, query: Mapping[str, str]) -> HttpResponse:
        request_id = str(uuid.uuid4())
        params = {name: query[name] for name in LINK_PARAMETERS[action] if name in query}
        context = RequestContext(
            request_id=request_id,
            service="sns",
            operation=action,
            region=self._region,
            caller=ANONYMOUS,
            base_url=f"{request.scheme}://{request.host}",
            host=request.host,
            remote_addr=request.remote_addr,
        )
        try:
            missing = [name for name in REQUIRED[action] if name not in params]
            if missing:
                raise ServiceError(
                    "MissingParameter", f"The request must contain the parameter {missing[0]}."
                )
            output = await self._operations[action](context, params)
            answer = self._codec.encode(action, output or {}, request_id)
        except ServiceError as error:
            answer = self._codec.encode_error(error, request_id, action)
        answer.headers.append(("x-amzn-RequestId", request_id))
        return answer


def _replace(response: HttpResponse, answer: HttpResponse) -> None:
    response.status = answer.status
    response.headers[:] = answer.headers
    response.body = answer.body
    response.content_length = answer.content_length
