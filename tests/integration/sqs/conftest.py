"""SQS integration tests: a server per test module, fresh queues, the test clock, error checks.

Each module gets its own server (started with ``--test-clock``), because these tests move the
clock by minutes (retention, deduplication windows, the 60-second rules), which would otherwise
add up in the session server and push SigV4 request times past the allowed skew.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("sqs") / "data", args=("--test-clock",)) as process:
        yield process


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@contextmanager
def aws_error(code: str, status: int = 400) -> Iterator[None]:
    """Expect a boto3 ClientError with this (legacy, as botocore reports it) code and status."""
    with pytest.raises(ClientError) as caught:
        yield
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.fixture
def advance(server: ServerProcess) -> Callable[[float], None]:
    def move(seconds: float) -> None:
        request = urllib.request.Request(
            f"{server.endpoint}/_kumoi/clock",
            data=json.dumps({"advance": seconds}).encode(),
            method="POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    return move


@pytest.fixture
def queue(sqs: Any) -> Callable[..., str]:
    def make(prefix: str = "q", fifo: bool = False, **attributes: str) -> str:
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    return make
