"""Compare two source trees of kumoi on the same machine at the same time: 4 KiB S3 PUT and GET
under wrk, server CPU per request and requests/s, as paired ratios.

    python bench/paired_ab.py BASE_TREE NEW_TREE [--rounds 8] [--seconds 3] [--connections 32]
        [--workloads put,get] [--out results.json]

A tree is a checkout of this repository (``git worktree add /tmp/base <commit>``). On a shared
2-core VM the speed of the same code drifts by 15% and more within minutes, so figures taken one
after the other cannot show a 5% change. Here both servers run at once, idle but for the run at
hand; the rounds alternate which tree goes first, each round runs every workload on both, and the
report is the median over rounds of the NEW/BASE ratio of each figure (with its range: an A/A
comparison of one tree with itself shows how wide it is on the machine at that time).

Requests rotate over ``--keys`` presigned-like signed requests (one per key), so PUTs replace
different objects as the benchmark rig's do. Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.foundation import cpu_seconds, wrk_output
from bench.report import report
from tests.support.raw import signed_headers
from tests.support.server import ServerProcess, start_server

BODY = b"0123456789abcdef" * 256
UNSIGNED = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
BUCKET = "paired"


def rotating_script(method: str, requests: list[tuple[str, dict[str, str]]], body: bytes) -> str:
    """A wrk script sending ``requests`` (path, signed headers) in turn, from a random start."""
    lines = ["local requests = {"]
    for path, headers in requests:
        fields = ", ".join(
            f"[{json.dumps(name)}] = {json.dumps(value)}"
            for name, value in headers.items()
            if name.lower() not in ("host", "content-length")
        )
        lines.append(f"  {{{json.dumps(path)}, {{{fields}}}}},")
    lines += [
        "}",
        "local i = 0",
        f"local body = {json.dumps(body.decode('latin-1')) if body else 'nil'}",
        "function init(args) i = math.random(#requests) end",
        "function request()",
        "  i = (i % #requests) + 1",
        f'  return wrk.format("{method}", requests[i][1], requests[i][2], body)',
        "end",
    ]
    return "\n".join(lines) + "\n"


def prepare(server: ServerProcess, keys: int) -> dict[str, str]:
    """Create the bucket and ``keys`` objects; the wrk script of each workload."""
    endpoint = server.endpoint

    def send(method: str, path: str, body: bytes) -> None:
        headers = signed_headers(method, endpoint + path, body, UNSIGNED, "s3")
        request = urllib.request.Request(endpoint + path, data=body or None, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    send("PUT", f"/{BUCKET}", b"")
    paths = [f"/{BUCKET}/k{index:05d}" for index in range(keys)]
    for path in paths:
        send("PUT", path, BODY)
    scripts = {}
    for name, method, body in (("put", "PUT", BODY), ("get", "GET", b"")):
        signed = [(path, signed_headers(method, endpoint + path, body, UNSIGNED, "s3")) for path in paths]
        scripts[name] = rotating_script(method, signed, body)
    return scripts


def measure(server: ServerProcess, script: str, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) of one wrk run (two threads, as the rig runs it)."""
    process = psutil.Process(server.process.pid)
    before = cpu_seconds(process)
    output = wrk_output(server.endpoint, script, seconds, connections, threads=2)
    used = cpu_seconds(process) - before
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert total and rate, output
    return float(rate.group(1)), used * 1000 / int(total.group(1))


@contextmanager
def tree_server(tree: Path, data_dir: Path, log_level: str) -> Iterator[ServerProcess]:
    # Run from the tree: ``python -m`` puts the working directory ahead of PYTHONPATH.
    server = start_server(data_dir, args=("--log-level", log_level), env={"PYTHONPATH": str(tree)}, cwd=tree)
    try:
        yield server
    finally:
        server.stop()


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def compared(base: list[tuple[float, float]], new: list[tuple[float, float]]) -> dict[str, object]:
    """Each tree's (requests/s, CPU ms per request) over the rounds, and the per-round ratios."""

    def side(runs: list[tuple[float, float]]) -> dict[str, object]:
        return {
            "requests_per_s": summary([r[0] for r in runs]),
            "cpu_ms_per_request": summary([r[1] for r in runs]),
        }

    pairs = list(zip(base, new, strict=True))
    return {
        "base": side(base),
        "new": side(new),
        "new_over_base": {
            "requests_per_s": summary([n[0] / b[0] for b, n in pairs]),
            "cpu_ms_per_request": summary([n[1] / b[1] for b, n in pairs]),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--workloads", default="put,get")
    parser.add_argument("--log-level", default="info", help="the servers' (info, the default, logs requests)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {w: {"base": [], "new": []} for w in workloads}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers = {
            name: stack.enter_context(tree_server(tree, Path(tmp) / name, args.log_level))
            for name, tree in trees.items()
        }
        scripts = {name: prepare(server, args.keys) for name, server in servers.items()}
        for name, server in servers.items():  # warm up both before anything counts
            for workload in workloads:
                measure(server, scripts[name][workload], 1, args.connections)
        for round_ in range(args.rounds):
            order = ["base", "new"] if round_ % 2 == 0 else ["new", "base"]
            for workload in workloads:
                for name in order:
                    runs[workload][name].append(
                        measure(servers[name], scripts[name][workload], args.seconds, args.connections)
                    )
    figures: dict[str, object] = {
        "trees": {name: str(tree) for name, tree in trees.items()},
        "rounds": args.rounds,
    }
    for workload, by_tree in runs.items():
        figures[workload] = compared(by_tree["base"], by_tree["new"])
    report(figures, args.out)


if __name__ == "__main__":
    main()
