"""A minimal client for the query protocol with any (overlaid) model: what an older SDK sends.

botocore's own QuerySerializer, SigV4Auth and QueryParser do the work, so the bytes on the wire are
exactly what a query-protocol SDK produces.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import botocore.model
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer

from kumoi.protocol.spec import ServiceModel


class QueryError(Exception):
    def __init__(self, status: int, parsed: dict[str, Any]) -> None:
        super().__init__(f"{status}: {parsed.get('Error')}")
        self.status = status
        self.error = parsed.get("Error", {})


class QueryClient:
    def __init__(
        self,
        model: ServiceModel,
        endpoint: str,
        *,
        signing_name: str,
        region: str = "us-east-1",
        access_key: str = "test",
        secret_key: str = "test",
    ) -> None:
        self._model = botocore.model.ServiceModel(model.document, service_name=model.service_name)
        self._endpoint = endpoint
        self._signer = SigV4Auth(Credentials(access_key, secret_key), signing_name, region)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        op = self._model.operation_model(operation)
        serialized = QuerySerializer().serialize_to_request(params, op)
        request = AWSRequest(
            method="POST",
            url=self._endpoint + serialized["url_path"],
            data=serialized["body"],
            headers=dict(serialized["headers"]),
        )
        self._signer.add_auth(request)
        prepared = request.prepare()
        http_request = urllib.request.Request(
            prepared.url, data=_as_bytes(prepared.body), method="POST", headers=dict(prepared.headers.items())
        )
        try:
            with urllib.request.urlopen(http_request, timeout=30) as response:
                status, headers, body = response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as failure:
            status, headers, body = failure.code, dict(failure.headers.items()), failure.read()
        parsed: dict[str, Any] = QueryParser().parse(
            {"status_code": status, "headers": headers, "body": body},
            op.output_shape if status < 300 else None,
        )
        if status >= 300:
            raise QueryError(status, parsed)
        return parsed


def _as_bytes(body: str | bytes | None) -> bytes:
    if isinstance(body, str):
        return body.encode()
    return body or b""
