"""Runs inside the s3fs virtualenv (see ``s3fs_venv``): drives ``s3fs.S3FileSystem`` on request.

s3fs pins botocore through aiobotocore, so it lives in a virtualenv of its own and this script
is its only code. It reads one JSON request per line on stdin, ``{"op", "args", "kwargs"}``,
and answers one JSON line on stdout, ``{"ok": result}`` or ``{"error": {"type", "message"}}``
(values encoded by ``s3fs_wire``). An op is a public method of the filesystem, or one of the
file-object ops below.

Usage: ``python s3fs_driver.py ENDPOINT_URL ACCESS_KEY SECRET_KEY``; the region comes from
``AWS_DEFAULT_REGION`` as for most s3fs users (naming it in ``client_kwargs`` makes s3fs send it
as the LocationConstraint of new buckets, which S3 refuses for us-east-1).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import s3fs
from s3fs_wire import decode, encode  # beside this script: the venv has no kumoi


def write_in_blocks(fs: Any, path: str, source: str, chunk: int, block_size: int) -> dict[str, int]:
    """Stream a local file into ``path`` through s3fs's buffered writer, ``chunk`` bytes per
    ``write``: past ``block_size`` it switches to a multipart upload."""
    written = 0
    with open(source, "rb") as reader, fs.open(path, "wb", block_size=block_size) as writer:
        while data := reader.read(chunk):
            written += writer.write(data)
    return {"written": written}


def read_at(fs: Any, path: str, reads: list[list[int]], block_size: int) -> list[bytes]:
    """Open ``path`` for reading and ``seek``/``read`` at each ``[offset, whence, length]``."""
    out = []
    with fs.open(path, "rb", block_size=block_size) as reader:
        for offset, whence, length in reads:
            reader.seek(offset, whence)
            out.append(reader.read(length))
    return out


EXTRA_OPS: dict[str, Callable[..., Any]] = {
    "write_in_blocks": write_in_blocks,
    "read_at": read_at,
}


def handle(fs: Any, request: dict[str, Any]) -> Any:
    op = request["op"]
    args = decode(request.get("args", []))
    kwargs = decode(request.get("kwargs", {}))
    if op in EXTRA_OPS:
        return EXTRA_OPS[op](fs, *args, **kwargs)
    if op.startswith("_"):
        raise AttributeError(f"not a public filesystem method: {op}")
    result = getattr(fs, op)(*args, **kwargs)
    # walk() and friends are generators.
    return list(result) if hasattr(result, "__next__") else result


def main() -> None:
    endpoint, key, secret = sys.argv[1:4]
    fs = s3fs.S3FileSystem(
        key=key,
        secret=secret,
        endpoint_url=endpoint,
        use_listings_cache=False,
        skip_instance_cache=True,
    )
    print(json.dumps({"ok": {"s3fs": s3fs.__version__}}), flush=True)
    for line in sys.stdin:
        try:
            reply = {"ok": encode(handle(fs, json.loads(line)))}
        except Exception as error:
            reply = {"error": {"type": type(error).__name__, "message": str(error)}}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
