"""The composition root: builds stores, auth, services and the HTTP server, and runs them.

Start-up order: open the metadata store (migrating its schema), recover what a crash left
half-done, build services, then listen. Shutdown runs the other way: stop accepting, let in-flight
requests finish, stop background tasks, close the stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from pathlib import Path

from kumoi import __version__
from kumoi.auth.credentials import StaticCredentials, root_credential
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.config import Settings
from kumoi.core.clock import Clock
from kumoi.runtime import init_hooks, keys, tls
from kumoi.runtime.wiring import build_authorizer, build_services
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.app import Application
from kumoi.server.dispatch import PeriodicTask, ServiceBinding
from kumoi.server.http import HttpServer
from kumoi.server.internal import InternalEndpoints
from kumoi.server.route import HostPolicy, Router
from kumoi.storage import snapshot
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.recovery import collect_garbage, recover

log = logging.getLogger("kumoi")

GC_INTERVAL_SECONDS = 5.0
GC_BATCH = 1000


class StartupError(Exception):
    """kumoi refuses to start with these settings; the message says why and what to do."""


def check_exposure(settings: Settings) -> None:
    if settings.is_loopback or not settings.uses_default_keys or settings.allow_default_keys_on_network:
        return
    raise StartupError(
        f"refusing to listen on {settings.host} with the well-known test/test keys: anyone who can reach "
        "this address could use them. Set real keys with KUMOI_ACCESS_KEY and KUMOI_SECRET_KEY (or "
        "--access-key/--secret-key), or allow it explicitly with KUMOI_ALLOW_DEFAULT_KEYS=1."
    )


class Kumoi:
    """One running kumoi server."""

    def __init__(self, settings: Settings) -> None:
        check_exposure(settings)
        self.settings = settings
        self.clock = Clock(adjustable=settings.test_clock)
        data_dir = settings.data_dir
        self.meta = SqliteMetadataStore(data_dir / snapshot.META_NAME, clock=self.clock)
        self.blobs = LocalBlobStore(data_dir / "blobs")
        self.services: dict[str, ServiceBinding] = {}
        self._server: HttpServer | None = None
        self._tls_server: HttpServer | None = None
        self.startup_state = "pending"
        self._gc_pauses = 0
        self._background: list[asyncio.Task[None]] = []
        self.started_at = 0.0

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.port

    async def start(self) -> None:
        began = time.perf_counter()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await self.meta.start()
        await self.blobs.start()
        await recover(self.meta, self.blobs)
        credentials = StaticCredentials(
            [root_credential(self.settings.access_key, self.settings.secret_key, self.settings.account_id)]
        )
        deps = Deps(self.settings, self.clock, self.meta, self.blobs, credentials)
        self.services = build_services(deps)
        for binding in self.services.values():
            if binding.startup is not None:
                await binding.startup()
        verifier = SigV4Verifier(
            credentials,
            self.clock,
            accept_any_key=self.settings.accept_any_key,
            default_account=self.settings.account_id,
        )
        hosts = HostPolicy(self.settings.base_domains, (*self.settings.hostnames, self.settings.host))
        router = Router((binding.routes for binding in self.services.values()), hosts)
        authorizer = build_authorizer(deps)
        internal = InternalEndpoints(
            __version__,
            self._service_states,
            self.clock,
            lambda: self.startup_state,
            self.snapshot,
            enforcement=authorizer.enforcement,
            actions={name: act for b in self.services.values() for name, act in b.admin_actions.items()},
        )
        application = Application(
            self.services, router, hosts, verifier, internal, self.settings.region, authorizer
        )
        # HTTPS listens first, so that a health check answered on the HTTP port means both do.
        if self.settings.tls:
            self._tls_server = HttpServer(application)
            await self._tls_server.start(self.settings.host, self.settings.tls_port, tls=self._tls_context())
        self._server = HttpServer(application)
        await self._server.start(self.settings.host, self.settings.port)
        tasks = [PeriodicTask("blob garbage collection", GC_INTERVAL_SECONDS, self._collect_garbage)]
        tasks += [task for binding in self.services.values() for task in binding.tasks]
        self._background = [self._every(task) for task in tasks]
        self._background.append(asyncio.get_running_loop().create_task(self._after_start(), name="seed+init"))
        self.started_at = time.time()
        log.info(
            "kumoi %s listening on http://%s:%d (data in %s, started in %.0f ms)",
            __version__,
            self.settings.host,
            self.port,
            self.settings.data_dir,
            (time.perf_counter() - began) * 1000,
        )

    async def stop(self, grace: float = 10.0) -> None:
        for server in (self._server, self._tls_server):
            if server is not None:
                await server.shutdown(grace)
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        await self.blobs.close()
        await self.meta.close()
        log.info("kumoi stopped")

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return f"http://{host}:{self.port}" if ":" not in host else f"http://[{host}]:{self.port}"

    def _tls_context(self) -> ssl.SSLContext:
        if self.settings.tls_cert and self.settings.tls_key:
            cert, key = Path(self.settings.tls_cert), Path(self.settings.tls_key)
        else:
            names = (self.settings.host, *self.settings.base_domains, *self.settings.hostnames)
            cert, key = tls.self_signed(self.settings.data_dir / "tls", names)
        log.info(
            "HTTPS on port %d; to trust its certificate: export AWS_CA_BUNDLE=%s",
            self.settings.tls_port,
            cert.resolve(),
        )
        return tls.server_context(cert, key)

    async def _after_start(self) -> None:
        """Apply the seed file, then run the init scripts: both talk to the running server."""
        self.startup_state = "running"
        try:
            seed_file = Path(self.settings.seed) if self.settings.seed else Path("kumoi.toml")
            if self.settings.seed or seed_file.exists():
                # Imported only when there is a seed: botocore's client machinery costs ~90 ms of start-up.
                from kumoi.runtime import seed

                document = seed.load(seed_file)
                seeder = seed.Seeder(
                    self.endpoint, self.settings.access_key, self.settings.secret_key, self.settings.region
                )
                await asyncio.to_thread(seeder.apply, document)
            init_dir = (
                Path(self.settings.init_dir) if self.settings.init_dir else self.settings.data_dir / "init"
            )
            environ = {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": self.settings.access_key,
                "AWS_SECRET_ACCESS_KEY": self.settings.secret_key,
                "AWS_DEFAULT_REGION": self.settings.region,
                "AWS_REGION": self.settings.region,
            }
            outcomes = await init_hooks.run_ready_scripts(init_hooks.script_dirs(init_dir), environ)
        except Exception:
            log.exception("start-up seeding or init scripts failed")
            self.startup_state = "failed"
            return
        self.startup_state = "failed" if any(o != "ok" for o in outcomes.values()) else "done"

    def _service_states(self) -> dict[str, str]:
        return {name: binding.state for name, binding in self.services.items()}

    async def _collect_garbage(self) -> None:
        if self._gc_pauses == 0:
            await collect_garbage(self.meta, self.blobs, GC_BATCH)

    async def snapshot(self) -> Path:
        """A consistent snapshot of all data, as a tar file in the data directory."""
        directory = self.settings.data_dir / "snapshots"
        directory.mkdir(exist_ok=True)
        target = directory / f"snapshot-{time.time_ns()}.tar"
        self._gc_pauses += 1
        try:
            count = await snapshot.save(
                self.meta.db, self.blobs, target, __version__, self.settings.data_dir / keys.KEYS_DIR
            )
        finally:
            self._gc_pauses -= 1
        log.info("snapshot %s written with %d blobs", target, count)
        return target

    @staticmethod
    def _every(task: PeriodicTask) -> asyncio.Task[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(task.interval)
                try:
                    await task.run()
                except Exception:
                    log.exception("background task %r failed", task.name)

        return asyncio.get_running_loop().create_task(loop(), name=task.name)
