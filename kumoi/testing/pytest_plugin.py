"""pytest fixtures for testing against a real kumoi server (registered through ``pytest11``).

- ``kumoi_server`` (session): one server per test session, per xdist worker, in this process
  (its own event loop in a background thread, a temporary data directory, a free port).
- ``kumoi`` (function): an :class:`~kumoi.testing.Endpoint` for a fresh, empty account, with
  ``AWS_ENDPOINT_URL`` and credentials set in the environment for the duration of the test, so
  boto3 clients created in the test (sync or async) talk to kumoi. Accounts isolate queues,
  topics, IAM and each account's bucket list; bucket *names* are global, as on AWS, so use
  unique names.

Isolation is by account, not by server: a new account is a random 12-digit access key id (the
server accepts any key, and such a key is the root of the account with that id), so a test gets
a clean slate without restarting or wiping anything, and the server starts once per session.

boto3's default session resolves credentials once and keeps them, so each test gets a new one
(it reads the test's account keys from the environment). A session built from scratch re-reads
botocore's endpoint data and service models, ~40 ms of CPU for the first client of every test;
these sessions share one botocore data loader instead (a read-only cache of those files), so the
first client and call of a test cost ~10 ms, against ~3 ms for a client of a session kept
across tests.

Measured with ``bench/startup.py`` (on a 2-core machine shared with other jobs, so CPU time is
the figure to trust): the session server is ready 0.15-0.2 s of CPU after a test first asks for
it, imports included (0.35-0.4 s where Python may not cache bytecode), and the ``kumoi``
fixture's setup and teardown take 0.2-0.3 ms per test.

Nothing of kumoi's server is imported until a test asks for a fixture, so installing kumoi
costs other test suites nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from kumoi.testing import Endpoint, new_account, server


@pytest.fixture(scope="session")
def kumoi_server() -> Iterator[Endpoint]:
    with server() as endpoint:
        yield endpoint


@pytest.fixture
def kumoi(kumoi_server: Endpoint, monkeypatch: pytest.MonkeyPatch) -> Endpoint:
    endpoint = new_account(kumoi_server)
    for name, value in endpoint.environ().items():
        monkeypatch.setenv(name, value)
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        monkeypatch.setattr(boto3, "setup_default_session", _session_factory(boto3))
    return endpoint


def _session_factory(boto3: Any) -> Any:
    """boto3's ``setup_default_session``, making sessions that share one botocore data loader."""

    def setup_default_session(**kwargs: Any) -> None:
        import botocore.session

        session = botocore.session.get_session()
        loader = _data_loader()
        session.register_component("data_loader", loader)
        boto3.DEFAULT_SESSION = boto3.Session(botocore_session=session, **kwargs)
        # Each boto3 session appends boto3's own data directory to its loader's search path.
        loader.search_paths[:] = dict.fromkeys(loader.search_paths)

    return setup_default_session


@cache
def _data_loader() -> Any:
    import botocore.session

    return botocore.session.get_session().get_component("data_loader")
