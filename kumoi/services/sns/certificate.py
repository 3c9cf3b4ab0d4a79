"""Serving kumoi's signing certificate at ``SigningCertURL``, inside the SNS service.

Receivers of signed messages fetch the certificate with a plain, unsigned GET. The URL kumoi
puts in messages (:attr:`~kumoi.services.sns.envelope.Links.certificate`) carries the pseudo
action ``Action=GetSigningCertificate``, so the router hands it to SNS like any query request;
this codec decodes that action itself (the SNS model has no such operation) and answers it with
the PEM file, leaving every other request to the query codec. The binding lists the action as
anonymous, like ConfirmSubscription and Unsubscribe, whose links (``SubscribeURL``,
``UnsubscribeURL``) receivers also visit unsigned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.protocol.base import DecodedRequest, ServiceCodec
from kumoi.services.sns.envelope import CERTIFICATE_ACTION

CERTIFICATE_OPERATION = CERTIFICATE_ACTION


class CertificateCodec(ServiceCodec):
    """The SNS query codec, plus the certificate pseudo action (GET only)."""

    protocol = "query"

    def __init__(self, inner: ServiceCodec, certificate: Callable[[], bytes]) -> None:
        self._inner = inner
        self._certificate = certificate

    async def decode(self, request: HttpRequest) -> DecodedRequest:
        if request.method in ("GET", "HEAD") and ("Action", CERTIFICATE_ACTION) in parse_qsl(
            request.query_string
        ):
            return DecodedRequest(CERTIFICATE_OPERATION, {})
        return await self._inner.decode(request)

    def encode(self, operation: str, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        if operation == CERTIFICATE_OPERATION:
            return HttpResponse(200, [("Content-Type", "application/x-pem-file")], self._certificate())
        return self._inner.encode(operation, output, request_id)

    def encode_error(
        self, error: ServiceError, request_id: str, operation: str | None = None
    ) -> HttpResponse:
        return self._inner.encode_error(error, request_id, operation)
