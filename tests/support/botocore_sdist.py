"""botocore's own test data (SigV4 test suite, protocol test vectors) for our tests.

They ship in botocore's source distribution, not in the wheel. We fetch the sdist of the
installed botocore version from the package index once into ``.cache/`` and extract only the
test data directories.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import botocore

_WANTED = ("tests/unit/auth/aws4_testsuite/", "tests/unit/protocols/")
_CACHE = Path(os.environ.get("KUMOI_TEST_CACHE", Path(__file__).resolve().parents[2] / ".cache"))


def botocore_tests_dir() -> Path:
    """The extracted ``tests/unit`` directory of the installed botocore's sdist."""
    version = botocore.__version__
    target = _CACHE / f"botocore-{version}"
    done = target / ".complete"
    if not done.exists():
        _fetch(version, target)
        done.touch()
    return target / "tests" / "unit"


def _fetch(version: str, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"botocore=={version}",
                "-d",
                tmp,
            ],
            check=True,
        )
        archive = next(Path(tmp).glob("botocore-*.tar.gz"))
        prefix = f"botocore-{version}/"
        with tarfile.open(archive) as tar:
            members = []
            for member in tar.getmembers():
                relative = member.name.removeprefix(prefix)
                if member.isfile() and relative.startswith(_WANTED):
                    member.name = relative
                    members.append(member)
            tar.extractall(target, members=members, filter="data")
