"""SQS send throughput with a C load generator: what the server can do when the client costs little.

    python bench/sqs_throughput.py [--duration 5] [--out results.json]
    python bench/sqs_throughput.py --endpoint http://127.0.0.1:4566 --pid 1234   # any server (a peer)

The shared rig (``../shared/bench``) drives SQS with aiohttp and a Python SigV4 signer, whose CPU
per request is of the same order as the server's, so on a 2-core machine the client bounds what
it can measure. Here wrk replays one signed SendMessage (32 connections) and one signed
SendMessageBatch of ten 100-byte messages (16 connections), the rig's shapes, to a fresh standard
queue. Reported per workload: requests/s, messages/s, the server's CPU time per message (from
/proc, the fair figure on a shared machine) and wrk's. Without ``--endpoint`` a kumoi server is
started on a temporary data directory. Receive+delete needs each response's receipt handles and
cannot be replayed, so it stays with the rig. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.foundation import cpu_seconds, lua_script, run_wrk
from bench.report import report
from tests.support.raw import signed_headers
from tests.support.server import start_server

BODY = "m" * 100
JSON_10 = "application/x-amz-json-1.0"


def call(endpoint: str, action: str, payload: dict[str, object]) -> dict[str, object]:
    body = json.dumps(payload).encode()
    headers = signed_headers(
        "POST", endpoint + "/", body, {"Content-Type": JSON_10, "X-Amz-Target": f"AmazonSQS.{action}"}, "sqs"
    )
    request = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read() or b"{}")
        return result


def workloads(queue_url: str) -> dict[str, tuple[dict[str, object], int, int]]:
    """name -> (SendMessage/SendMessageBatch input, messages per request, connections)."""
    entries = [{"Id": str(i), "MessageBody": f"{i}:{BODY}"} for i in range(10)]
    return {
        "sqs_send": ({"QueueUrl": queue_url, "MessageBody": BODY}, 1, 32),
        "sqs_send_batch": ({"QueueUrl": queue_url, "Entries": entries}, 10, 16),
    }


def measure(endpoint: str, process: psutil.Process, duration: int) -> dict[str, object]:
    queue_url = str(call(endpoint, "CreateQueue", {"QueueName": "bench-sqs-throughput"})["QueueUrl"])
    figures: dict[str, object] = {}
    for name, (payload, per_request, connections) in workloads(queue_url).items():
        action = "SendMessage" if per_request == 1 else "SendMessageBatch"
        body = json.dumps(payload).encode()
        headers = {"Content-Type": JSON_10, "X-Amz-Target": f"AmazonSQS.{action}"}
        signed = signed_headers("POST", endpoint + "/", body, headers, "sqs")
        server_before = cpu_seconds(process)
        wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        rate = run_wrk(endpoint, lua_script("POST", "/", signed, body), duration, connections)
        wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_used = cpu_seconds(process) - server_before
        wrk_used = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
        messages = rate * duration * per_request
        figures[name] = {
            "requests_per_s": round(rate),
            "messages_per_s": round(rate * per_request),
            "server_cpu_ms_per_message": round(server_used * 1000 / messages, 4),
            "client_cpu_ms_per_message": round(wrk_used * 1000 / messages, 4),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--endpoint", help="measure this running server instead of starting kumoi")
    parser.add_argument("--pid", type=int, help="the --endpoint server's process id (for its CPU time)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.endpoint:
        if args.pid is None:
            parser.error("--endpoint needs --pid")
        figures = measure(args.endpoint.rstrip("/"), psutil.Process(args.pid), args.duration)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = start_server(Path(tmp) / "data", args=("--log-level", "warning"))
            try:
                figures = measure(server.endpoint, psutil.Process(server.process.pid), args.duration)
            finally:
                server.stop()
    report(figures, args.out)


if __name__ == "__main__":
    main()
