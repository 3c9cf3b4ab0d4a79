"""Candidate (b): uvicorn with the httptools parser, uvloop, and a raw ASGI app."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

BODY = b"x" * 4096
GET_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]}
PUT_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "PUT":
        while (await receive()).get("more_body"):
            pass
        await send(PUT_START)
        await send({"type": "http.response.body", "body": b""})
        return
    await send(GET_START)
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
