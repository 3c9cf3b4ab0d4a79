"""The production edge, ``kumoi.server.http.HttpServer``, with the same minimal app, on uvloop."""

from __future__ import annotations

import asyncio
import sys

import uvloop

from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.server.http import HttpServer

BODY = b"x" * 4096


async def handler(request: HttpRequest) -> HttpResponse:
    if request.method == "PUT":
        while await request.body.read(65536):
            pass
        return HttpResponse(200)
    return HttpResponse(200, [], BODY)


async def main(port: int) -> None:
    server = HttpServer(handler)
    await server.start("127.0.0.1", port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
