"""s3fs in its own process (see ``s3fs_venv`` for why), called one operation at a time."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tests.support.s3fs_venv import s3fs_python
from tests.support.s3fs_wire import decode, encode

CALL_TIMEOUT = 60.0
_DRIVER = Path(__file__).with_name("s3fs_driver.py")


class RemoteError(Exception):
    """An exception raised by s3fs in the driver: ``kind`` is its class name (``FileNotFoundError``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class RemoteS3fs:
    """One ``s3fs.S3FileSystem`` (listing cache off) in the driver process."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._reply()  # the greeting: s3fs imported, filesystem ready

    def call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``fs.<op>(*args, **kwargs)`` (or a driver op) and return its decoded result."""
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(json.dumps({"op": op, "args": encode(args), "kwargs": encode(kwargs)}) + "\n")
        stdin.flush()
        return self._reply()

    def _reply(self) -> Any:
        stdout = self._process.stdout
        assert stdout is not None
        line = _read_line(stdout, CALL_TIMEOUT)
        if not line:
            raise RuntimeError(f"the s3fs driver exited with {self._process.wait(10)}")
        reply = json.loads(line)
        if "error" in reply:
            raise RemoteError(reply["error"]["type"], reply["error"]["message"])
        return decode(reply["ok"])


@contextlib.contextmanager
def remote_s3fs(endpoint: str, key: str, secret: str, region: str) -> Iterator[RemoteS3fs]:
    process = subprocess.Popen(
        [str(s3fs_python()), str(_DRIVER), endpoint, key, secret],
        env={**os.environ, "AWS_DEFAULT_REGION": region},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield RemoteS3fs(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _read_line(stream: IO[str], timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError(f"the s3fs driver did not answer within {timeout} s")
    return stream.readline()
