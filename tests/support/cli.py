"""The ``kumoi`` command line in a subprocess, for tests of its offline commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_kumoi(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m kumoi <args>``, its output captured as text; the exit code is the caller's to judge."""
    return subprocess.run(
        [sys.executable, "-m", "kumoi", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def rotate_keys(data_dir: Path) -> str:
    """``kumoi keys rotate`` on ``data_dir``, which must succeed; what it reports."""
    result = run_kumoi("keys", "rotate", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout
