"""botocore's own test data (SigV4 test suite, protocol test vectors) for our tests.

They ship in botocore's source distribution, not in the wheel. We fetch the sdist of the
installed botocore version from the package index once into ``.cache/`` and extract only the
test data directories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import botocore

_WANTED = ("tests/unit/auth/aws4_testsuite/", "tests/unit/protocols/")
#: Marks a fully extracted tree.
COMPLETE = ".complete"
_CACHE = Path(os.environ.get("KUMOI_TEST_CACHE", Path(__file__).resolve().parents[2] / ".cache"))


def botocore_tests_dir() -> Path:
    """The extracted ``tests/unit`` directory of the installed botocore's sdist."""
    version = botocore.__version__
    target = _CACHE / f"botocore-{version}"
    if not (target / COMPLETE).exists():
        _fetch(version, target)
    return target / "tests" / "unit"


def _fetch(version: str, target: Path) -> None:
    """Download and extract into a private directory, then rename it into place: xdist workers
    collecting at once each do this, and the first rename wins."""
    _CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=_CACHE) as tmp:
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
        tree = Path(tmp) / "tree"
        prefix = f"botocore-{version}/"
        with tarfile.open(archive) as tar:
            members = []
            for member in tar.getmembers():
                relative = member.name.removeprefix(prefix)
                if member.isfile() and relative.startswith(_WANTED):
                    member.name = relative
                    members.append(member)
            tar.extractall(tree, members=members, filter="data")
        (tree / COMPLETE).touch()
        if target.exists() and not (target / COMPLETE).exists():
            shutil.rmtree(target, ignore_errors=True)  # left half-done by an interrupted run
        try:
            os.rename(tree, target)
        except OSError:
            if not (target / COMPLETE).exists():
                raise
