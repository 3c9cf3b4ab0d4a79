"""A real kumoi server in a subprocess, for tests that go through the front door."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, *, attempts: int = 1, **config: Any) -> Any:
        """A boto3 client for ``service`` on this server with the root test keys; ``config``
        goes to botocore's ``Config`` (timeouts, pool size)."""
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": attempts}, **config),
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the crash the durability tests simulate."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise
        return int(self.process.returncode)


def wait_healthy(
    endpoint: str, process: subprocess.Popen[bytes] | None = None, timeout: float = STARTUP_TIMEOUT
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"kumoi exited with {process.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(f"{endpoint}/_kumoi/health", timeout=2) as response:
                document: dict[str, object] = json.load(response)
                return document
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def start_server(
    data_dir: Path,
    *,
    port: int | None = None,
    args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-server-{port}.log"
    environment = {**os.environ, **(env or {})}
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "kumoi", "serve", "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=cwd,
        )
    server = ServerProcess(process, port, data_dir, log_path)
    try:
        wait_healthy(server.endpoint, process)
    except Exception:
        server.kill()
        raise RuntimeError(f"kumoi did not start:\n{server.log()}") from None
    return server


@contextlib.contextmanager
def running_server(data_dir: Path, **kwargs: object) -> Iterator[ServerProcess]:
    server = start_server(data_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
