"""Delivery state that must survive a restart: an HTTP retry schedule goes on where it was (no
attempt is given back, exhausted retries still reach the dead-letter queue), and a FIFO topic's
five-minute deduplication window holds across a kill -9."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.sns.conftest import Endpoint, receive_all
from tests.support.server import ServerProcess, start_server

#: Four attempts three seconds apart: the server is killed between the second and the third.
RETRIES = {"minDelayTarget": 3, "maxDelayTarget": 3, "numRetries": 3, "backoffFunction": "linear"}
ATTEMPTS = 1 + RETRIES["numRetries"]
#: Longest wait for an attempt or a dead letter.
DEADLINE_SECONDS = 20.0


def _client(server: ServerProcess, service: str) -> Any:
    return server.client(service, attempts=0, connect_timeout=2, read_timeout=10)


def _queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _wait_attempts(endpoint: Endpoint, count: int) -> None:
    with endpoint.condition:
        assert endpoint.condition.wait_for(lambda: endpoint.attempts >= count, DEADLINE_SECONDS)


def test_http_retry_schedule_continues_after_kill_9(tmp_path: Path, endpoint: Endpoint) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sns, sqs = _client(server, "sns"), _client(server, "sqs")
        topic = sns.create_topic(Name="retries")["TopicArn"]
        dlq_url, dlq_arn = _queue(sqs, "retries-dlq")
        sns.subscribe(
            TopicArn=topic,
            Protocol="http",
            Endpoint=endpoint.url,
            Attributes={
                "DeliveryPolicy": json.dumps({"healthyRetryPolicy": RETRIES}),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
            },
        )
        (confirmation,) = endpoint.wait_for(1)
        sns.confirm_subscription(TopicArn=topic, Token=confirmation.json()["Token"])
        with endpoint.condition:
            endpoint.received.clear()
            endpoint.fail, endpoint.attempts = 10**9, 0
        sns.publish(TopicArn=topic, Message="never accepted")
        _wait_attempts(endpoint, 2)
        time.sleep(1.0)  # the second failure is recorded; the third attempt is two seconds away
    finally:
        server.kill()
    assert endpoint.attempts == 2
    server = start_server(data, port=server.port)
    try:
        (dead,) = receive_all(_client(server, "sqs"), dlq_url, 1, timeout=DEADLINE_SECONDS)
        assert json.loads(dead["Body"])["Message"] == "never accepted"
        time.sleep(1.0)  # an attempt too many would come at once
        assert endpoint.attempts == ATTEMPTS
    finally:
        server.stop()


def _advance(server: ServerProcess, seconds: float) -> None:
    request = urllib.request.Request(
        f"{server.endpoint}/_kumoi/clock", method="POST", data=json.dumps({"advance": seconds}).encode()
    )
    urllib.request.urlopen(request, timeout=5).close()


def test_fifo_deduplication_window_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, args=("--test-clock",))
    try:
        sns, sqs = _client(server, "sns"), _client(server, "sqs")
        topic = sns.create_topic(
            Name="dedup.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
        )["TopicArn"]
        url, arn = _queue(sqs, "dedup.fifo", FifoQueue="true")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        first = sns.publish(TopicArn=topic, Message="one", MessageGroupId="g", MessageDeduplicationId="a")
        by_content = sns.publish(TopicArn=topic, Message="two", MessageGroupId="g")
    finally:
        server.kill()
    server = start_server(data, port=server.port, args=("--test-clock",))
    try:
        sns, sqs = _client(server, "sns"), _client(server, "sqs")
        again = sns.publish(TopicArn=topic, Message="dup", MessageGroupId="g", MessageDeduplicationId="a")
        assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
        same_content = sns.publish(TopicArn=topic, Message="two", MessageGroupId="g")
        assert same_content["MessageId"] == by_content["MessageId"]
        fresh = sns.publish(TopicArn=topic, Message="three", MessageGroupId="g", MessageDeduplicationId="b")
        assert int(fresh["SequenceNumber"]) > int(by_content["SequenceNumber"]) > int(first["SequenceNumber"])
        _advance(server, 301)  # past the window: the id is new again
        later = sns.publish(TopicArn=topic, Message="four", MessageGroupId="g", MessageDeduplicationId="a")
        assert later["MessageId"] != first["MessageId"]
        bodies = [m["Body"] for m in receive_all(sqs, url, 4)]
        assert bodies == ["one", "two", "three", "four"]
    finally:
        server.stop()
