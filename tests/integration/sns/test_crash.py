"""kill -9 during fan-out: every acknowledged publish still reaches every subscriber.

The SQS subscribers usually have everything before the kill lands; the HTTP subscriber's
endpoint refuses every message until the restart (its retries are 20 seconds apart), so its
deliveries are certainly still in the outbox when kumoi dies, and must be recovered from there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.integration.sns.conftest import Endpoint
from tests.support.server import ServerProcess, start_server

MESSAGES = 300
QUEUES = 4


def _client(server: ServerProcess, service: str) -> Any:
    return server.client(service, max_pool_connections=16)


def test_kill_9_during_fan_out_loses_nothing(tmp_path: Path, endpoint: Endpoint) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sns, sqs = _client(server, "sns"), _client(server, "sqs")
        topic = sns.create_topic(Name="crash")["TopicArn"]
        sns.subscribe(
            TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes={"RawMessageDelivery": "true"}
        )
        (confirmation,) = endpoint.wait_for(1)
        sns.confirm_subscription(TopicArn=topic, Token=confirmation.json()["Token"])
        endpoint.received.clear()
        endpoint.fail = 10**9
        urls = []
        for i in range(QUEUES):
            url = sqs.create_queue(QueueName=f"crash-{i}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(
                TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
            )
            urls.append(url)

        def publish(i: int) -> None:
            sns.publish(TopicArn=topic, Message=f"m{i}")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(publish, range(MESSAGES)))
    finally:
        server.kill()  # right after the last acknowledgement: fan-out is still under way
    endpoint.fail = 0
    server = start_server(data, port=server.port)
    try:
        sqs = _client(server, "sqs")
        expected = {f"m{i}" for i in range(MESSAGES)}
        for url in urls:
            bodies: set[str] = set()
            for _round in range(500):  # duplicates (delivered, not yet forgotten at the crash) may come too
                got = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=1
                )
                bodies |= {m["Body"] for m in got.get("Messages", [])}
                if bodies == expected or "Messages" not in got:
                    break
            assert bodies == expected
        endpoint.wait_for(MESSAGES, timeout=20)
        assert {r.body for r in endpoint.received} == expected
        assert "undelivered messages recovered" in server.log()
    finally:
        server.stop()
