"""kumoi's own endpoints under ``/_kumoi/``: health, start-up state, and the test clock.

``GET /_kumoi/health`` (also ``/_localstack/health``, so existing wait scripts work) answers JSON
with the version, each service's state and the start-up (seed and init scripts) state;
``GET /_kumoi/init`` (also ``/_localstack/init``) tells whether the init scripts have run.
``POST /_kumoi/snapshot`` answers a consistent snapshot of all data (``kumoi snapshot save``).
``POST /_kumoi/clock`` with ``{"advance": seconds}`` moves the clock forward when the server was
started with ``--test-clock``; ``GET`` shows it.
``POST /_kumoi/enforcement`` with ``{"account": "123456789012", "enforce": true}`` switches IAM
enforcement on for one account of the running server (``false`` switches off an account switched
on this way; accounts enforced by the settings stay enforced); ``GET`` shows which are enforced.
``POST /_kumoi/<action>`` runs an admin action a service offers (``lifecycle``: one S3 lifecycle
pass now) and answers what it did.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from kumoi.core.authz import Enforcement
from kumoi.core.clock import Clock
from kumoi.core.http import FileBody, HttpRequest, HttpResponse
from kumoi.core.streams import BodyTooLarge, read_limited

_MAX_ADMIN_BODY = 64 * 1024
_ACCOUNT = re.compile(r"\d{12}")


def json_response(status: int, document: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(
        status=status,
        headers=[("Content-Type", "application/json")],
        body=json.dumps(document).encode(),
    )


def _file_response(path: Path) -> HttpResponse:
    """Send a file once and delete it afterwards."""
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size

    def close() -> None:
        os.close(fd)
        path.unlink(missing_ok=True)

    return HttpResponse(
        status=200,
        headers=[("Content-Type", "application/x-tar")],
        body=FileBody(fd, 0, size, close),
        content_length=size,
    )


class InternalEndpoints:
    PREFIXES = ("/_kumoi/", "/_localstack/")

    def __init__(
        self,
        version: str,
        service_states: Callable[[], Mapping[str, str]],
        clock: Clock,
        startup_state: Callable[[], str] = lambda: "done",
        snapshot: Callable[[], Awaitable[Path]] | None = None,
        enforcement: Enforcement | None = None,
        actions: Mapping[str, Callable[[], Awaitable[Mapping[str, Any]]]] | None = None,
    ) -> None:
        self._version = version
        self._service_states = service_states
        self._clock = clock
        self._startup_state = startup_state
        self._snapshot = snapshot
        self._enforcement = enforcement
        self._actions = dict(actions or {})

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The response for an internal path, or None when the path is not one of ours."""
        path = request.path
        if path in ("/_kumoi/health", "/_localstack/health"):
            if request.method not in ("GET", "HEAD"):
                return json_response(405, {"error": "use GET"})
            return json_response(
                200,
                {
                    "version": self._version,
                    "edition": "kumoi",
                    "services": dict(self._service_states()),
                    "init": self._startup_state(),
                },
            )
        if path in ("/_kumoi/init", "/_localstack/init"):
            state = self._startup_state()
            return json_response(200, {"state": state, "completed": {"READY": state in ("done", "failed")}})
        if path == "/_kumoi/snapshot" and self._snapshot is not None:
            if request.method != "POST":
                return json_response(405, {"error": "use POST"})
            return _file_response(await self._snapshot())
        if path == "/_kumoi/clock":
            return await self._clock_endpoint(request)
        if path == "/_kumoi/enforcement" and self._enforcement is not None:
            return await self._enforcement_endpoint(request, self._enforcement)
        action = self._actions.get(path.removeprefix("/_kumoi/")) if path.startswith("/_kumoi/") else None
        if action is not None:
            if request.method != "POST":
                return json_response(405, {"error": "use POST"})
            return json_response(200, await action())
        return None

    async def _clock_endpoint(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            return json_response(200, self._clock_state())
        if request.method != "POST":
            return json_response(405, {"error": "use GET or POST"})
        if not self._clock.adjustable:
            return json_response(403, {"error": "the clock is not adjustable; start kumoi with --test-clock"})
        try:
            document = json.loads(await read_limited(request.body, _MAX_ADMIN_BODY))
            seconds = float(document["advance"])
            self._clock.advance(seconds)
        except (BodyTooLarge, ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"error": f'expected {{"advance": seconds >= 0}}: {exc}'})
        return json_response(200, self._clock_state())

    @staticmethod
    async def _enforcement_endpoint(request: HttpRequest, enforcement: Enforcement) -> HttpResponse:
        if request.method == "GET":
            return json_response(200, enforcement.describe())
        if request.method != "POST":
            return json_response(405, {"error": "use GET or POST"})
        try:
            document = json.loads(await read_limited(request.body, _MAX_ADMIN_BODY))
            account = document["account"]
            enforce = document.get("enforce", True)
            if not (isinstance(account, str) and _ACCOUNT.fullmatch(account) and isinstance(enforce, bool)):
                raise ValueError("account must be 12 digits and enforce true or false")
        except (BodyTooLarge, ValueError, KeyError, TypeError, AttributeError) as exc:
            return json_response(
                400, {"error": f'expected {{"account": "123456789012", "enforce": true}}: {exc}'}
            )
        if enforce:
            enforcement.enable(account)
        elif not enforcement.disable(account):
            return json_response(409, {"error": f"IAM is enforced for {account} by the server's settings"})
        return json_response(200, enforcement.describe())

    def _clock_state(self) -> dict[str, Any]:
        return {"now": self._clock.now(), "offset": self._clock.offset, "adjustable": self._clock.adjustable}
