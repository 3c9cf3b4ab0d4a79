"""pytest fixtures for testing against a real kumoi server (registered through ``pytest11``).

- ``kumoi_server`` (session): one server per test session, per xdist worker.
- ``kumoi`` (function): an :class:`~kumoi.testing.Endpoint` for a fresh, empty account, with
  ``AWS_ENDPOINT_URL`` and credentials set in the environment for the duration of the test, so
  boto3 clients created in the test (sync or async) talk to kumoi. Accounts isolate queues, IAM
  and each account's bucket list; bucket *names* are global, as on AWS, so use unique names.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

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
        # boto3's default session resolves credentials once and keeps them: start each test afresh.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return endpoint
