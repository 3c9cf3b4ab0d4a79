"""A real kumoi server per test session (per xdist worker), and clients pointed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess, running_server

REGION = "us-east-1"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("kumoi") / "data"
    with running_server(data_dir, args=("--test-clock",)) as process:
        yield process


@pytest.fixture(scope="session")
def client_factory(server: ServerProcess) -> Callable[..., Any]:
    def make(service: str, **kwargs: Any) -> Any:
        options: dict[str, Any] = {
            "endpoint_url": server.endpoint,
            "region_name": REGION,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
            "config": Config(retries={"max_attempts": 1}),
        }
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)

    return make


@pytest.fixture(scope="session")
def s3(client_factory: Callable[..., Any]) -> Any:
    return client_factory("s3")


@pytest.fixture(scope="session")
def sqs(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sqs")


@pytest.fixture(scope="session")
def sts(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sts")


@pytest.fixture
def cli_env(server: ServerProcess, tmp_path: Path) -> dict[str, str]:
    """Environment for running the aws CLI against the server."""
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
    }
