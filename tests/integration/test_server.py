"""The server as an operator sees it: start-up checks, keys, shutdown, logs, the aws CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.server import ServerProcess, running_server, start_server


def sts_client(server: ServerProcess, key: str, secret: str = "anything") -> Any:
    return boto3.session.Session().client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def test_unknown_key_is_refused_and_names_the_option(server: ServerProcess) -> None:
    with pytest.raises(ClientError) as excinfo:
        sts_client(server, "AKIDUNKNOWN").get_caller_identity()
    error = excinfo.value.response["Error"]
    assert error["Code"] == "InvalidClientTokenId"
    assert "accept-any-key" in error["Message"]


def test_accept_any_key(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", args=("--accept-any-key",)) as server:
        assert sts_client(server, "123456789012").get_caller_identity()["Account"] == "123456789012"
        assert sts_client(server, "AKIDSOMETHING").get_caller_identity()["Account"] == "000000000000"
        with pytest.raises(ClientError) as excinfo:
            sts_client(server, "test", "wrong-secret").get_caller_identity()
        assert excinfo.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_refuses_default_keys_off_loopback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kumoi",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "KUMOI_ACCESS_KEY" in result.stderr


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    sqs = boto3.session.Session().client(
        "sqs",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    url = sqs.create_queue(QueueName="drain")["QueueUrl"]
    outcome: dict[str, Any] = {}

    def long_poll() -> None:
        try:
            outcome["response"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        except Exception as exc:
            outcome["error"] = exc

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)
    assert server.stop(timeout=30) == 0
    poller.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["response"]["ResponseMetadata"]["HTTPStatusCode"] == 200
    log = server.log()
    assert "kumoi stopped" in log
    assert "sqs ReceiveMessage 200" in log


def test_access_lines_reach_the_log_while_the_server_runs(server: ServerProcess) -> None:
    """Lines are written in batches, off the event loop, but within moments and whole."""
    request_id = server.client("s3").list_buckets()["ResponseMetadata"]["RequestId"]
    deadline = time.monotonic() + 10
    while request_id not in server.log():
        assert time.monotonic() < deadline, server.log()[-2000:]
        time.sleep(0.02)
    line = next(line for line in server.log().splitlines() if request_id in line)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} INFO kumoi.access: 127.0.0.1 GET s3 ListBuckets 200 "
        rf"\d+\.\dms {request_id}",
        line,
    )


def test_aws_cli(server: ServerProcess, cli_env: dict[str, str], tmp_path: Path) -> None:
    def aws(*args: str) -> str:
        result = subprocess.run(["aws", *args], env=cli_env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    identity = json.loads(aws("sts", "get-caller-identity"))
    assert identity["Account"] == "000000000000"
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    aws("s3", "mb", f"s3://{bucket}")
    source = tmp_path / "hello.txt"
    source.write_text("hello from the aws cli\n")
    aws("s3", "cp", str(source), f"s3://{bucket}/greetings/hello.txt")
    assert bucket in aws("s3", "ls")
    target = tmp_path / "back.txt"
    aws("s3api", "get-object", "--bucket", bucket, "--key", "greetings/hello.txt", str(target))
    assert target.read_text() == "hello from the aws cli\n"
    # aws CLI v1 sends SQS calls in us-east-1 to its legacy queue.amazonaws.com endpoint whatever
    # AWS_ENDPOINT_URL says (its own customization), so SQS needs --endpoint-url there.
    endpoint = ("--endpoint-url", server.endpoint)
    queue_url = json.loads(aws("sqs", "create-queue", "--queue-name", f"cli-{bucket}", *endpoint))["QueueUrl"]
    aws("sqs", "send-message", "--queue-url", queue_url, "--message-body", "from the cli", *endpoint)
    received = json.loads(aws("sqs", "receive-message", "--queue-url", queue_url, *endpoint))
    assert received["Messages"][0]["Body"] == "from the cli"


@pytest.mark.parametrize(
    "advance", ["NaN", "Infinity", "-1", "1e12"], ids=["nan", "infinity", "backwards", "year-33000"]
)
def test_the_test_clock_refuses_moves_that_would_break_every_answer(
    server: ServerProcess, advance: str
) -> None:
    """A clock at NaN, or past year 9999, would fail every later ``Date`` header."""
    url = f"{server.endpoint}/_kumoi/clock"
    with urllib.request.urlopen(url, timeout=5) as response:
        before = json.load(response)["offset"]
    request = urllib.request.Request(url, data=f'{{"advance": {advance}}}'.encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    with urllib.request.urlopen(url, timeout=5) as response:
        assert json.load(response)["offset"] == before
    assert sts_client(server, "test", "test").get_caller_identity()["Account"]
