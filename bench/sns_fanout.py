"""SNS publish throughput delivered to 1 and to 10 SQS subscriptions, for any server.

    python bench/sns_fanout.py [--duration 5] [--subscribers 1,10] [--out results.json]
    python bench/sns_fanout.py --endpoint http://127.0.0.1:4566 --pid 1234   # any server (a peer)

The shared rig (``../shared/bench``) measures one raw SQS subscription; issue 5 also asks for
ten. Per subscriber count: a standard topic with that many raw SQS subscriptions (each queue's
policy lets the topic send), wrk replaying one signed Publish of a 100-byte message over 32
connections for ``--duration`` seconds, then GetQueueAttributes on every queue (bounded wait)
until each holds every accepted publish. Reported: publishes/s delivered to all subscribers
(from the first publish to the last delivery observed), deliveries/s, the accepted rate, and the
server's CPU per publish (from /proc). wrk costs little CPU, so the server, not the client,
bounds the figure. Without ``--endpoint`` a kumoi server is started on a temporary data
directory. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.foundation import cpu_seconds, lua_script, wrk_output
from bench.report import report
from bench.sqs_throughput import call as sqs
from tests.support.raw import signed_headers
from tests.support.server import start_server

CONNECTIONS = 32
#: Longest wait for deliveries after publishing stops, and for a count that stopped moving.
DRAIN_CAP_S = 60.0
STALL_S = 10.0
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def queue_attributes(response: dict[str, object]) -> dict[str, str]:
    found = response["Attributes"]
    assert isinstance(found, dict)
    return {str(name): str(value) for name, value in found.items()}


def sns_body(params: dict[str, str]) -> bytes:
    return urllib.parse.urlencode(dict(params, Version="2010-03-31")).encode()


def sns(endpoint: str, params: dict[str, str]) -> ElementTree.Element:
    body = sns_body(params)
    headers = signed_headers("POST", endpoint + "/", body, {"Content-Type": FORM}, "sns")
    request = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return ElementTree.fromstring(response.read())


def text_of(root: ElementTree.Element, name: str) -> str:
    found = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == name), None)
    assert found, f"no {name} in {ElementTree.tostring(root)[:300]!r}"
    return found


def topic_with_queues(endpoint: str, name: str, count: int) -> tuple[str, list[str]]:
    topic = text_of(sns(endpoint, {"Action": "CreateTopic", "Name": name}), "TopicArn")
    queues = []
    for index in range(count):
        url = str(sqs(endpoint, "CreateQueue", {"QueueName": f"{name}-q{index}"})["QueueUrl"])
        attributes = sqs(endpoint, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        arn = str(queue_attributes(attributes)["QueueArn"])
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        sqs(endpoint, "SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": policy}})
        sns(
            endpoint,
            {
                "Action": "Subscribe",
                "TopicArn": topic,
                "Protocol": "sqs",
                "Endpoint": arn,
                "Attributes.entry.1.key": "RawMessageDelivery",
                "Attributes.entry.1.value": "true",
            },
        )
        queues.append(url)
    return topic, queues


def held(endpoint: str, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs(endpoint, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": names})
    return sum(int(value) for value in queue_attributes(attributes).values())


def publish_with_wrk(endpoint: str, topic: str, duration: int) -> tuple[int, float]:
    """(publishes accepted, seconds) of wrk replaying one signed Publish."""
    body = sns_body({"Action": "Publish", "TopicArn": topic, "Message": "m" * 100})
    signed = signed_headers("POST", endpoint + "/", body, {"Content-Type": FORM}, "sns")
    output = wrk_output(endpoint, lua_script("POST", "/", signed, body), duration, CONNECTIONS)
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    assert match, output
    seconds = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    return int(match.group(1)), seconds


def measure(endpoint: str, process: psutil.Process, duration: int, count: int) -> dict[str, object]:
    topic, queues = topic_with_queues(endpoint, f"bench-fanout-{count}-{int(time.time())}", count)
    server_before = cpu_seconds(process)
    started = time.perf_counter()
    accepted, _seconds = publish_with_wrk(endpoint, topic, duration)
    stopped = time.perf_counter()
    delivered, last_change, last = -1, stopped, stopped
    while time.perf_counter() - stopped < DRAIN_CAP_S:
        total = sum(held(endpoint, url) for url in queues)
        now = time.perf_counter()
        if total != delivered:
            delivered, last_change, last = total, now, now
        if delivered >= accepted * count or now - last_change > STALL_S:
            break
        time.sleep(0.1)
    server_used = cpu_seconds(process) - server_before
    return {
        "subscribers": count,
        "publishes_accepted": accepted,
        "accepted_per_s": round(accepted / (stopped - started)),
        "publishes_delivered_per_s": round(delivered / count / (last - started)),
        "deliveries_per_s": round(delivered / (last - started)),
        "undelivered": max(0, accepted * count - delivered),
        "delivery_lag_s": round(last - stopped, 2),
        "server_cpu_ms_per_publish": round(server_used * 1000 / max(accepted, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--subscribers", default="1,10", help="comma list of subscription counts")
    parser.add_argument("--endpoint", help="measure this running server instead of starting kumoi")
    parser.add_argument("--pid", type=int, help="the --endpoint server's process id (for its CPU time)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    counts = [int(value) for value in args.subscribers.split(",")]

    def run(endpoint: str, pid: int) -> list[dict[str, object]]:
        return [measure(endpoint, psutil.Process(pid), args.duration, count) for count in counts]

    if args.endpoint:
        if args.pid is None:
            parser.error("--endpoint needs --pid")
        figures = run(args.endpoint.rstrip("/"), args.pid)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = start_server(Path(tmp) / "data", args=("--log-level", "warning"))
            try:
                figures = run(server.endpoint, server.process.pid)
            finally:
                server.stop()
    report(figures, args.out)


if __name__ == "__main__":
    main()
