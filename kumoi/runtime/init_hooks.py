"""Init hooks: scripts in ``ready.d/`` run once the server is healthy (LocalStack's layout).

Scripts are found in ``<init dir>/ready.d/`` (default ``<data-dir>/init``) and, for teams moving
from LocalStack, ``/etc/localstack/init/ready.d/``. They run one at a time in name order with
``AWS_ENDPOINT_URL`` and credentials set: executables directly, ``*.sh`` with bash, ``*.py`` with
this Python. A failing script is logged and does not stop the server or the scripts after it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

log = logging.getLogger("kumoi.init")

LOCALSTACK_INIT = Path("/etc/localstack/init")
SCRIPT_TIMEOUT = 600.0


def script_dirs(init_dir: Path) -> list[Path]:
    return [d / "ready.d" for d in (init_dir, LOCALSTACK_INIT) if (d / "ready.d").is_dir()]


def _command(script: Path) -> list[str] | None:
    if script.suffix == ".sh":
        return ["bash", str(script)]
    if script.suffix == ".py":
        return [sys.executable, str(script)]
    if os.access(script, os.X_OK):
        return [str(script)]
    return None


async def run_ready_scripts(directories: Iterable[Path], environ: Mapping[str, str]) -> dict[str, str]:
    """Run every script; returns each script's outcome ("ok", "failed (exit N)", "timed out")."""
    outcomes: dict[str, str] = {}
    for directory in directories:
        for script in sorted(p for p in directory.iterdir() if p.is_file()):
            command = _command(script)
            if command is None:
                continue
            outcomes[str(script)] = await _run(script, command, environ)
    return outcomes


async def _run(script: Path, command: list[str], environ: Mapping[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        env={**os.environ, **environ},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), SCRIPT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        log.error("init script %s timed out after %.0f s", script, SCRIPT_TIMEOUT)
        return "timed out"
    for line in output.decode(errors="replace").splitlines():
        log.info("%s: %s", script.name, line)
    if process.returncode != 0:
        log.error("init script %s failed with exit code %s", script, process.returncode)
        return f"failed (exit {process.returncode})"
    log.info("init script %s done", script)
    return "ok"
