"""A virtualenv with s3fs for the s3fs client tests, created once under ``.cache/`` and reused.

s3fs needs aiobotocore, and every aiobotocore release pins a narrow botocore range. kumoi's
protocol plans and tests follow the botocore installed beside it, so s3fs must not choose that
botocore: it gets an environment of its own, filled from the package index by pip (nothing else
is downloaded), and the tests drive it in a subprocess (``s3fs_driver.py``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = ("s3fs>=2024.12",)
_CACHE = Path(os.environ.get("KUMOI_TEST_CACHE", Path(__file__).resolve().parents[2] / ".cache"))
_VENV_TIMEOUT = 120
_PIP_TIMEOUT = 600


def s3fs_python() -> Path:
    """The interpreter of the s3fs virtualenv, built on first use (xdist workers wait on a lock)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    root = _CACHE / f"s3fs-venv-py{version}"
    python = root / "bin" / "python"
    stamp = root / ".complete"
    wanted = "\n".join(REQUIREMENTS)
    _CACHE.mkdir(parents=True, exist_ok=True)
    with (_CACHE / f"s3fs-venv-py{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == wanted):
            _build(root, python)
            stamp.write_text(wanted)
    return python


def _build(root: Path, python: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=_VENV_TIMEOUT)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
        timeout=_PIP_TIMEOUT,
    )
