"""A kumoi server on its own event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading

from kumoi.config import Settings
from kumoi.runtime.app import Kumoi

START_TIMEOUT = 30.0


class ServerThread:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ready = threading.Event()
        self._port = 0
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="kumoi-server", daemon=True)

    def start(self) -> int:
        """Start serving; returns the port once the server is ready."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError("kumoi did not start in time")
        if self._error is not None:
            raise RuntimeError("kumoi failed to start") from self._error
        return self._port

    def stop(self) -> None:
        """Shut down cleanly (in-flight requests finish) and wait for the thread."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT)

    def _run(self) -> None:
        try:
            import uvloop

            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        except ImportError:  # pragma: no cover - uvloop is a dependency on supported platforms
            loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = Kumoi(self._settings)
        await server.start()
        self._port = server.port
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()
