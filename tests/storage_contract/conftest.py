"""Contract tests run against every metadata store implementation (today: SQLite).

Tests are plain functions that take the ``contract`` fixture and hand it an async body; the
fixture opens a fresh store on a fresh event loop, runs the body and closes the store, so each
backend is exercised the way the server uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract import MetadataStore
from kumoi.storage.meta.sqlite import SqliteMetadataStore


@dataclass
class Env:
    meta: MetadataStore
    clock: Clock


Body = Callable[[Env], Awaitable[None]]
Runner = Callable[[Body], None]


def _sqlite(path: Path, clock: Clock) -> MetadataStore:
    return SqliteMetadataStore(path / "meta.db", clock=clock)


BACKENDS: dict[str, Callable[[Path, Clock], MetadataStore]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def contract(request: pytest.FixtureRequest, tmp_path: Path) -> Runner:
    factory = BACKENDS[request.param]

    def run(body: Body) -> None:
        async def main() -> None:
            clock = Clock(adjustable=True)
            meta = factory(tmp_path, clock)
            await meta.start()
            try:
                await body(Env(meta, clock))
            finally:
                await meta.close()

        asyncio.run(main())

    return run
