"""Fixtures of the tests that act across accounts: a server of the test module's own that lets any
12-digit key in as that account's root and enforces IAM for no account (tests switch accounts on),
and two fresh accounts on it.

A test module imports the fixtures it uses and names them in ``__all__``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.iam.conftest import Account
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("kumoi-accounts") / "data"
    with running_server(data_dir, args=("--accept-any-key",)) as process:
        yield process


@pytest.fixture
def owner(server: ServerProcess) -> Account:
    return Account(server.endpoint)


@pytest.fixture
def visitor(server: ServerProcess) -> Account:
    return Account(server.endpoint)
