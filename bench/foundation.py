"""Foundation figures: start-to-healthy, idle RSS, and requests/s at concurrency 16 for STS
GetCallerIdentity and 4 KiB S3 PutObject/GetObject, measured with wrk against a real server.

    python bench/foundation.py [--duration 5] [--connections 16] [--out results.json]

Each workload replays one correctly signed request (valid for 15 minutes), so the figures are the
server's capacity, not the client's signing speed. Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from tests.support.raw import signed_headers
from tests.support.server import free_port, start_server, wait_healthy


def lua_script(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    lines = [
        f'wrk.method = "{method}"',
        f'wrk.path = "{path}"',
        "reported = false",
        "function response(status, headers, body)",
        "  if status >= 300 and not reported then print(status, body); reported = true end",
        "end",
    ]
    if body:
        lines.append(f"wrk.body = {json.dumps(body.decode('latin-1'))}")
    for name, value in headers.items():
        if name.lower() not in ("host", "content-length"):
            lines.append(f'wrk.headers["{name}"] = {json.dumps(value)}')
    return "\n".join(lines) + "\n"


def wrk_output(endpoint: str, script: str, duration: float, connections: int, threads: int = 1) -> str:
    """wrk's report of replaying ``script``; raises if any response was an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s", "-s", handle.name, endpoint],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"wrk saw {non_2xx.group(1)} error responses:\n{output}")
    return output


def run_wrk(endpoint: str, script: str, duration: float, connections: int) -> float:
    output = wrk_output(endpoint, script, duration, connections)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    return float(match.group(1))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        spawned = time.perf_counter()
        server = start_server(Path(tmp) / "data", port=port, args=("--log-level", "warning"))
        start_to_healthy = time.perf_counter() - spawned
        try:
            wait_healthy(server.endpoint)
            time.sleep(1.0)
            process = psutil.Process(server.process.pid)
            idle_rss = process.memory_info().rss
            endpoint = server.endpoint
            body = b"Action=GetCallerIdentity&Version=2011-06-15"
            form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            payload = b"0123456789abcdef" * 256
            unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
            setup = signed_headers("PUT", endpoint + "/bench", b"", unsigned, "s3")
            header_args = [arg for name, value in setup.items() for arg in ("-H", f"{name}: {value}")]
            subprocess.run(["curl", "-sf", "-X", "PUT", *header_args, endpoint + "/bench"], check=True)
            workloads = {
                "sts_get_caller_identity": ("POST", "/", body, form, "sts"),
                "s3_put_4k": ("PUT", "/bench/object-4k", payload, unsigned, "s3"),
                "s3_get_4k": ("GET", "/bench/object-4k", b"", unsigned, "s3"),
            }
            figures: dict[str, object] = {
                "start_to_healthy_ms": round(start_to_healthy * 1000),
                "idle_rss_mib": round(idle_rss / 1024**2, 1),
                "connections": args.connections,
            }
            for name, (method, path, data, headers, service) in workloads.items():
                signed = signed_headers(method, endpoint + path, data, headers, service)
                before = cpu_seconds(process)
                rate = run_wrk(
                    endpoint, lua_script(method, path, signed, data), args.duration, args.connections
                )
                used = cpu_seconds(process) - before
                figures[name] = {
                    "requests_per_s": round(rate),
                    "server_cpu_ms_per_request": round(used * 1000 / (rate * args.duration), 3),
                }
            figures["peak_rss_mib"] = round(process.memory_info().rss / 1024**2, 1)
        finally:
            server.stop()
    report(figures, args.out)


if __name__ == "__main__":
    main()
