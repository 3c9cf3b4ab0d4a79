"""Run every candidate under wrk and print a Markdown table of req/s and server CPU per request.

Usage: ``[ROUNDS=3] /tmp/benchvenv/bin/python bench/http_layers/run.py [candidate ...]`` (the venv holds
aiohttp, uvicorn and granian; kumoi itself needs only uvloop and httptools). Each server runs as
one process; CPU is utime+stime from /proc/<pid>/stat summed over the process and its children,
sampled just before and after each wrk run.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DURATION = "5s"
WARM_UP = "2s"
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CANDIDATES = {
    "aiohttp": "app_aiohttp.py",
    "uvicorn": "app_uvicorn.py",
    "granian": "app_granian.py",
    "raw": "app_raw.py",
    "kumoi": "app_kumoi.py",
}
TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.extend(tree(int(entry.name)))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def wrk(port: int, pids: list[int], script: str | None, duration: str) -> tuple[float, float]:
    cmd = ["wrk", "-t1", "-c16", f"-d{duration}"]
    if script:
        cmd += ["-s", str(HERE / script)]
    cmd.append(f"http://127.0.0.1:{port}/bench")
    before = cpu_seconds(pids)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pids) - before
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    assert match and total, out
    if "Non-2xx" in out or "Socket errors" in out:
        print(out, file=sys.stderr)
    return float(match.group(1)), used * 1000 / int(total.group(1))


def measure(name: str) -> tuple[float, float, float, float]:
    """(GET req/s, GET CPU ms/req, PUT req/s, PUT CPU ms/req) of one fresh server process."""
    port = free_port()
    with open(f"/tmp/http_layers_{name}.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, CANDIDATES[name], str(port)], cwd=HERE, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_up(port)
            pids = tree(proc.pid)
            wrk(port, pids, None, WARM_UP)
            get_rps, get_cpu = wrk(port, pids, None, DURATION)
            put_rps, put_cpu = wrk(port, pids, "put4k.lua", DURATION)
            return get_rps, get_cpu, put_rps, put_cpu
        finally:
            proc.terminate()
            proc.wait()


def main(names: list[str]) -> None:
    results: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in names}
    for _ in range(ROUNDS):  # interleaved, so that load from elsewhere spreads over all candidates
        for name in names:
            results[name].append(measure(name))
    print(f"median of {ROUNDS} rounds, wrk -t1 -c16 -d{DURATION}")
    print("| candidate | GET 4 KiB req/s | GET CPU ms/req | PUT 4 KiB req/s | PUT CPU ms/req |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in results.items():
        get_rps, get_cpu, put_rps, put_cpu = (statistics.median(column) for column in zip(*rows, strict=True))
        print(f"| {name} | {get_rps:,.0f} | {get_cpu:.4f} | {put_rps:,.0f} | {put_cpu:.4f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CANDIDATES))
