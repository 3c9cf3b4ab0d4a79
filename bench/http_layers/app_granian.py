"""Candidate (c): granian (Rust HTTP stack) with an RSGI app, one worker, uvloop."""

from __future__ import annotations

import sys
from typing import Any

BODY = b"x" * 4096


async def app(scope: Any, proto: Any) -> None:
    if scope.method == "PUT":
        async for _chunk in proto:
            pass
        proto.response_empty(200, [])
        return
    proto.response_bytes(200, [("content-length", "4096")], BODY)


if __name__ == "__main__":
    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        "app_granian:app",
        address="127.0.0.1",
        port=int(sys.argv[1]),
        interface=Interfaces.RSGI,
        workers=1,
        loop=Loops.uvloop,
        log_enabled=False,
    ).serve()
