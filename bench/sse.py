"""SSE-S3 cost: 4 KiB PUT/GET requests/s (wrk, concurrency 16) and 1 GiB PUT/GET throughput (curl),
against a server that seals new objects (the default) and one started with --plaintext-at-rest.

    python bench/sse.py [--duration 5] [--size-mib 1024] [--out results.json]

Needs `wrk` and `curl`. The 1 GiB figures are the best of ``--repeat`` runs (the disk and page
cache are shared with whatever else runs on the machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.foundation import lua_script, run_wrk
from bench.report import report
from tests.support.raw import signed_headers
from tests.support.server import ServerProcess, start_server

UNSIGNED = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
MIB = 1024 * 1024


def curl(server: ServerProcess, method: str, path: str, *extra: str) -> None:
    headers = signed_headers(method, server.endpoint + path, b"", UNSIGNED, "s3")
    args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    subprocess.run(["curl", "-sf", "-X", method, *args, *extra, server.endpoint + path], check=True)


def measure(server: ServerProcess, big: Path, duration: int, repeat: int) -> dict[str, float]:
    curl(server, "PUT", "/bench")
    payload = b"0123456789abcdef" * 256
    figures: dict[str, float] = {}
    for name, method, data in (("put_4k_rps", "PUT", payload), ("get_4k_rps", "GET", b"")):
        signed = signed_headers(method, server.endpoint + "/bench/small", data, UNSIGNED, "s3")
        figures[name] = round(
            run_wrk(server.endpoint, lua_script(method, "/bench/small", signed, data), duration, 16)
        )
    size_mib = big.stat().st_size / MIB
    puts, gets = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        curl(server, "PUT", "/bench/big", "-T", str(big), "-H", "Expect:")
        puts.append(size_mib / (time.perf_counter() - began))
        began = time.perf_counter()
        curl(server, "GET", "/bench/big", "-o", "/dev/null")
        gets.append(size_mib / (time.perf_counter() - began))
    figures["put_big_mib_s"] = round(max(puts))
    figures["get_big_mib_s"] = round(max(gets))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        with big.open("wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(MIB))
        for mode, extra in (("sse_s3", ()), ("plaintext", ("--plaintext-at-rest",))):
            server = start_server(Path(tmp) / mode, args=("--log-level", "warning", *extra))
            try:
                results[mode] = measure(server, big, args.duration, args.repeat)
            finally:
                server.stop()
    results["cost_percent"] = {
        name: round(100 * (1 - results["sse_s3"][name] / results["plaintext"][name]), 1)
        for name in results["sse_s3"]
    }
    report(results, args.out)


if __name__ == "__main__":
    main()
