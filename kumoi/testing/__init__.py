"""Real kumoi servers for tests: ``with kumoi.testing.server() as endpoint: ...``.

The server runs in this process, on its own event loop in a background thread, with a temporary
data directory, on a free loopback port. It accepts any access key (a 12-digit key acts as the root
of the account with that id), so each test can work in an account of its own; see
:func:`new_account`. The pytest plugin (:mod:`kumoi.testing.pytest_plugin`) wraps this.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kumoi.config import load_settings

REGION = "us-east-1"
SECRET = "test"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a test server listens, and the credentials of one account on it."""

    url: str
    port: int
    access_key_id: str
    secret_access_key: str = SECRET
    region: str = REGION

    @property
    def account_id(self) -> str:
        return self.access_key_id if len(self.access_key_id) == 12 else "000000000000"

    def environ(self) -> dict[str, str]:
        """The environment variables that point SDKs and the aws CLI at this server and account."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }


def new_account(endpoint: Endpoint) -> Endpoint:
    """The same server seen from a fresh, empty account (a random 12-digit access key id)."""
    account = str(secrets.randbelow(9 * 10**11) + 10**11)
    return Endpoint(endpoint.url, endpoint.port, account, endpoint.secret_access_key, endpoint.region)


@contextlib.contextmanager
def server(data_dir: Path | None = None, **settings: object) -> Iterator[Endpoint]:
    """Run a kumoi server for the duration of the block. ``settings`` override
    :class:`~kumoi.config.Settings` fields (``log_level="warning"`` by default)."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kumoi-test-")))
        overrides: dict[str, object] = {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": data_dir,
            "accept_any_key": True,
            "test_clock": True,
            "log_level": "warning",
        }
        overrides.update(settings)
        # The server is imported here, not with this module: the pytest plugin imports this
        # module in every test session of an environment where kumoi is installed.
        from kumoi.testing.thread import ServerThread

        thread = ServerThread(load_settings(overrides, environ={}))
        port = thread.start()
        stack.callback(thread.stop)
        yield Endpoint(f"http://127.0.0.1:{port}", port, "000000000000")
