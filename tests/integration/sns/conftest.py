"""SNS integration tests: the session server, fresh topics and queues, an HTTP endpoint to deliver to."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

#: How long a test waits for an asynchronous delivery.
DELIVERY_TIMEOUT = 10.0


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Caught:
    """The error an :func:`aws_error` block raised (its message, once the block has ended)."""

    message: str = ""


@contextmanager
def aws_error(code: str, status: int = 400) -> Iterator[Caught]:
    """Expect a boto3 ClientError with this code and status."""
    result = Caught()
    with pytest.raises(ClientError) as caught:
        yield result
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    result.message = error.get("Message", "")


@pytest.fixture(scope="session")
def sns(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sns")


@pytest.fixture
def topic(sns: Any) -> Callable[..., str]:
    def make(fifo: bool = False, **attributes: str) -> str:
        name = unique() + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoTopic"] = "true"
        return str(sns.create_topic(Name=name, Attributes=attributes)["TopicArn"])

    return make


@pytest.fixture
def queue(sqs: Any) -> Callable[..., tuple[str, str]]:
    """A new queue: (url, arn)."""

    def make(fifo: bool = False, **attributes: str) -> tuple[str, str]:
        name = unique("q") + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return str(url), str(arn)

    return make


def receive_all(sqs: Any, url: str, count: int, timeout: float = DELIVERY_TIMEOUT) -> list[dict[str, Any]]:
    """Receive (and delete) messages until ``count`` arrived or ``timeout`` passed."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if got:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        messages += got
    return messages


def assert_empty(sqs: Any, url: str) -> None:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert "Messages" not in got, got["Messages"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Endpoint:
    """An HTTP endpoint served by the test: records every POST, fails the first ``fail`` ones."""

    url: str
    fail: int = 0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = DELIVERY_TIMEOUT) -> list[Received]:
        with self.condition:
            self.condition.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
            with state.condition:
                state.attempts += 1
                failing = state.attempts <= state.fail
                if not failing:
                    state.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                state.condition.notify_all()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # kumoi opens several connections at once

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
