"""Start-up figures: start-to-healthy, idle RSS, and what the pytest plugin costs a test suite.

    python bench/startup.py [--runs 7] [--tests 40] [--out results.json]

- start-to-healthy: ``python -m kumoi serve`` on a fresh data directory until ``/_kumoi/health``
  answers (median of ``--runs`` starts), with the server's CPU time at that moment, which is the
  figure to trust on a loaded machine (wall time includes waiting for a core);
- idle RSS: the server's resident memory one second after it became healthy (median);
- the pytest plugin, run by pytest in a fresh interpreter on a generated suite of ``--tests``
  tests: the first test's setup is the session server's cold start in-process (imports
  included), and every later test's setup and teardown is the per-test isolation cost (a fresh
  account, its environment, boto3's default session reset). The call phase of those tests shows
  what one boto3 client and one request cost right after that reset, and the whole run (pytest's
  own start-up, collection and the plugin's import included) what a user waits for.

Every figure is taken twice: as this environment runs Python, and with bytecode caches (in a
temporary ``PYTHONPYCACHEPREFIX``), as an installed kumoi runs (pip compiles bytecode when it
installs). Where ``PYTHONDONTWRITEBYTECODE`` is set, every start compiles the ~1.3 MB of kumoi
source it imports again: ~160 ms of CPU.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from tests.support.server import free_port

HEALTH_TIMEOUT = 30.0
POLL_SECONDS = 0.002
IDLE_SECONDS = 1.0

USER_TEST = """
import boto3


def test_{index}(kumoi):
    assert "QueueUrls" not in boto3.client("sqs").list_queues()
"""

RECORDER = """
import json
import os
import time

import pytest

DURATIONS = {"setup": [], "call": [], "teardown": []}
CPU = {"setup": [], "call": [], "teardown": []}


def pytest_runtest_logreport(report):
    DURATIONS[report.when].append(report.duration)


def _cpu(when):
    @pytest.hookimpl(wrapper=True)
    def hook(item, **kwargs):
        began = time.process_time()
        try:
            return (yield)
        finally:
            CPU[when].append(time.process_time() - began)

    return hook


pytest_runtest_setup = _cpu("setup")
pytest_runtest_call = _cpu("call")
pytest_runtest_teardown = _cpu("teardown")


def pytest_sessionfinish(session):
    with open(os.environ["STARTUP_BENCH_OUT"], "w") as handle:
        json.dump({"wall": DURATIONS, "cpu": CPU}, handle)
"""


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/_kumoi/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def one_start(directory: Path, environ: dict[str, str]) -> dict[str, float]:
    """Start a server on a fresh data directory; time to healthy, its CPU then, RSS when idle."""
    port = free_port()
    command = [sys.executable, "-m", "kumoi", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(directory), "--log-level", "warning"]
    began = time.perf_counter()
    process = subprocess.Popen(command, env=environ)
    try:
        watched = psutil.Process(process.pid)
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kumoi did not become healthy (exit code {process.poll()})")
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - began
        times = watched.cpu_times()
        time.sleep(IDLE_SECONDS)
        rss = watched.memory_info().rss
    finally:
        process.terminate()
        process.wait(30)
    return {"healthy_s": elapsed, "cpu_s": times.user + times.system, "rss_mib": rss / 2**20}


def server_figures(runs: int, work: Path, environ: dict[str, str]) -> dict[str, object]:
    """The median of ``runs`` starts (after one unmeasured start that fills any bytecode cache)."""
    one_start(work / "warm-up", environ)
    starts = [one_start(work / f"data-{run}", environ) for run in range(runs)]
    healthy = sorted(start["healthy_s"] for start in starts)
    return {
        "start_to_healthy_ms": round(statistics.median(healthy) * 1000),
        "start_to_healthy_min_max_ms": [round(healthy[0] * 1000), round(healthy[-1] * 1000)],
        "server_cpu_at_healthy_ms": round(statistics.median(start["cpu_s"] for start in starts) * 1000),
        "idle_rss_mib": round(statistics.median(start["rss_mib"] for start in starts), 1),
    }


def plugin_figures(tests: int, work: Path, environ: dict[str, str]) -> dict[str, float]:
    """Run a generated suite under pytest with the kumoi plugin; per-phase durations."""
    suite = work / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(RECORDER)
    (suite / "test_user.py").write_text(
        "\n".join(textwrap.dedent(USER_TEST).format(index=index) for index in range(tests))
    )
    out = work / "durations.json"
    environ = {**environ, "STARTUP_BENCH_OUT": str(out)}
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        environ.pop(name, None)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(suite)],
        cwd=suite,
        env=environ,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    recorded = json.loads(out.read_text())
    figures: dict[str, float] = {"whole_run_wall_s": round(elapsed, 2), "whole_run_cpu_s": round(cpu, 2)}
    for clock in ("wall", "cpu"):
        setups, calls, teardowns = (recorded[clock][when] for when in ("setup", "call", "teardown"))
        per_test = [setup + teardown for setup, teardown in zip(setups[1:], teardowns[1:], strict=True)]
        figures |= {
            f"session_server_ready_{clock}_ms": round(setups[0] * 1000, 1),
            f"per_test_isolation_{clock}_ms": round(statistics.median(per_test) * 1000, 3),
            f"per_test_isolation_max_{clock}_ms": round(max(per_test) * 1000, 3),
            f"first_client_and_call_{clock}_ms": round(statistics.median(calls[1:]) * 1000, 1),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="server starts to take the median of")
    parser.add_argument("--tests", type=int, default=40, help="tests in the generated pytest suite")
    parser.add_argument("--plugin-runs", type=int, default=3, help="pytest sessions to take the median of")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures: dict[str, object] = {"load_average": [round(load, 2) for load in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="kumoi-startup-") as tmp:
        work = Path(tmp)
        # As this environment runs Python, then as an installed kumoi runs (pip compiles bytecode).
        as_is = dict(os.environ)
        cached = {**os.environ, "PYTHONPYCACHEPREFIX": str(work / "pycache")}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        for label, environ in (("as_configured", as_is), ("bytecode_cached", cached)):
            (work / label).mkdir()
            servers = server_figures(args.runs, work / label, environ)
            sessions = []
            for run in range(args.plugin_runs + 1):  # the first fills any bytecode cache
                (work / label / f"plugin-{run}").mkdir()
                sessions.append(plugin_figures(args.tests, work / label / f"plugin-{run}", environ))
            del sessions[0]
            figures[label] = {
                "bytecode": "PYTHONDONTWRITEBYTECODE" not in environ,
                **servers,
                "pytest_plugin": {
                    "tests": args.tests,
                    **{key: statistics.median(session[key] for session in sessions) for key in sessions[0]},
                },
            }
    report(figures, args.out)


if __name__ == "__main__":
    main()
