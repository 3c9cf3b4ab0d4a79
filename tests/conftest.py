"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.botocore_sdist import botocore_tests_dir


@pytest.fixture(scope="session")
def botocore_unit_tests() -> Path:
    """botocore's ``tests/unit`` data: ``auth/aws4_testsuite`` and ``protocols``."""
    return botocore_tests_dir()
