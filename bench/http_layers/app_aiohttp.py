"""Candidate (a): aiohttp's low-level server (``aiohttp.web_server.Server``) on uvloop."""

from __future__ import annotations

import asyncio
import sys

import uvloop
from aiohttp import web, web_server

BODY = b"x" * 4096


async def handler(request: web.BaseRequest) -> web.Response:
    if request.method == "PUT":
        while await request.content.read(65536):
            pass
        return web.Response(status=200)
    return web.Response(body=BODY)


async def main(port: int) -> None:
    server = web_server.Server(handler)
    loop = asyncio.get_running_loop()
    await loop.create_server(server, "127.0.0.1", port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
