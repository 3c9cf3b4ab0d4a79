"""The request pipeline's error path: a bug answers 500 InternalError with a request id, and the
traceback goes to the log, never to the client."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from kumoi.auth.credentials import StaticCredentials
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.server.app import Application
from kumoi.server.dispatch import ServiceBinding
from kumoi.server.internal import InternalEndpoints
from kumoi.server.route import HostPolicy, Router, ServiceRoutes


async def explode(context: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("secret internal detail")


def application() -> Application:
    routes = ServiceRoutes(name="s3", signing_name="s3", protocols=("rest-xml",))
    binding = ServiceBinding(
        routes=routes,
        codecs={"rest-xml": RestXmlCodec(service_model("s3"))},
        handlers={"ListBuckets": explode},
        anonymous_operations=frozenset({"ListBuckets"}),
    )
    hosts = HostPolicy(["localhost"], [])
    clock = Clock()
    return Application(
        {"s3": binding},
        Router([routes], hosts),
        hosts,
        SigV4Verifier(StaticCredentials(), clock),
        InternalEndpoints("test", dict, clock),
        "us-east-1",
    )


def request(path: str, host: str = "localhost:4566") -> HttpRequest:
    path, _, query = path.partition("?")
    return HttpRequest("GET", path, query, Headers([("host", host)]), BytesBody())


def test_a_bug_answers_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="kumoi.server"):
        response = asyncio.run(application()(request("/")))
    assert response.status == 500
    body = bytes(response.body)  # type: ignore[arg-type]
    assert b"<Code>InternalError</Code>" in body
    request_id = response.header("x-amz-request-id")
    assert request_id and request_id.encode() in body
    assert b"secret internal detail" not in body
    assert "secret internal detail" in caplog.text
    assert request_id in caplog.text


def test_unserved_host_is_refused() -> None:
    response = asyncio.run(application()(request("/", host="rebind.attacker.example")))
    assert response.status == 400
    assert b"InvalidHostHeader" in bytes(response.body)  # type: ignore[arg-type]


def test_operation_without_a_provider_method_is_not_implemented() -> None:
    response = asyncio.run(application()(request("/some-bucket?replication")))
    assert response.status == 501
    assert b"GetBucketReplication" in bytes(response.body)  # type: ignore[arg-type]
