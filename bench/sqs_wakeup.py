"""SQS long-poll wake-up latency: from a SendMessage call to the ReceiveMessage that returns it.

    python bench/sqs_wakeup.py [--rate 50] [--seconds 10] [--out results.json]
    python bench/sqs_wakeup.py --endpoint http://127.0.0.1:4566   # any server (a peer)

Issue 4 asks for the p50/p99 wake-up latency of long polling; the shared rig measures it only
behind SNS (publish, delivery to SQS, receive). Here four receivers wait in ReceiveMessage
(``WaitTimeSeconds=20``, up to 10 messages) on a fresh standard queue while one sender sends
``--rate`` messages a second for ``--seconds`` seconds (open loop, bounded). Each message's
latency runs from just before its SendMessage request is made to the moment a receiver's call
returns it; receivers delete what they get. Reported: p50, p90, p99 and max in ms, how many
messages arrived, and the send round trip's p50. Without ``--endpoint`` a kumoi server is
started on a temporary data directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from bench.sqs_throughput import call
from tests.support.server import start_server

RECEIVERS = 4
#: Longest wait for stragglers after the last send.
DRAIN_S = 10.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(endpoint: str, rate: float, seconds: float) -> dict[str, object]:
    queue = str(call(endpoint, "CreateQueue", {"QueueName": f"wakeup-{int(time.time() * 1000)}"})["QueueUrl"])
    total = int(rate * seconds)
    sent_at: dict[int, float] = {}
    latency: dict[int, float] = {}
    round_trips: list[float] = []
    done = threading.Event()
    lock = threading.Lock()

    def receive() -> None:
        while not done.is_set():
            found = call(
                endpoint,
                "ReceiveMessage",
                {
                    "QueueUrl": queue,
                    "MaxNumberOfMessages": 10,
                    "WaitTimeSeconds": 20 if len(latency) < total else 1,
                },
            )
            arrived = time.perf_counter()
            messages = found.get("Messages") or []
            assert isinstance(messages, list)
            with lock:
                for message in messages:
                    number = int(message["Body"])
                    latency.setdefault(number, arrived - sent_at[number])
                if len(latency) >= total:
                    done.set()
            if messages:
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                ]
                call(endpoint, "DeleteMessageBatch", {"QueueUrl": queue, "Entries": entries})

    receivers = [threading.Thread(target=receive, daemon=True) for _ in range(RECEIVERS)]
    for thread in receivers:
        thread.start()
    time.sleep(0.5)  # every receiver is waiting
    start = time.perf_counter()
    for number in range(total):
        pause = start + number / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        with lock:
            sent_at[number] = time.perf_counter()
        call(endpoint, "SendMessage", {"QueueUrl": queue, "MessageBody": str(number)})
        round_trips.append(time.perf_counter() - sent_at[number])
    done.wait(DRAIN_S)
    done.set()
    for thread in receivers:
        thread.join(25)
    call(endpoint, "DeleteQueue", {"QueueUrl": queue})
    values = [value * 1000 for value in latency.values()]
    return {
        "sent": total,
        "received": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p90_ms": round(percentile(values, 0.90), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(max(values), 2),
        "send_round_trip_p50_ms": round(statistics.median(round_trips) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="messages sent per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--endpoint", help="measure this running server instead of starting kumoi")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.endpoint:
        figures = measure(args.endpoint.rstrip("/"), args.rate, args.seconds)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = start_server(Path(tmp) / "data", args=("--log-level", "warning"))
            try:
                figures = measure(server.endpoint, args.rate, args.seconds)
            finally:
                server.stop()
    report(figures, args.out)


if __name__ == "__main__":
    main()
