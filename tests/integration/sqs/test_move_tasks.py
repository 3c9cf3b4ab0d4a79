"""Message move tasks are durable: a running task resumes after kill -9 and completes, and
ListMessageMoveTasks shows the ten most recent tasks of a source queue, newest first (boto3)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.support.server import start_server

#: How long a test waits for a task to reach a final status.
TASK_WAIT_SECONDS = 30.0


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _dead_letter_queue(sqs: Any, name: str) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=name)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": _arn(sqs, dlq), "maxReceiveCount": "3"})
    sqs.create_queue(QueueName=f"{name}-source", Attributes={"RedrivePolicy": policy})
    return dlq, _arn(sqs, dlq)


def _newest(sqs: Any, source_arn: str) -> dict[str, Any]:
    return dict(sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1)["Results"][0])


def _finished(sqs: Any, source_arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_WAIT_SECONDS
    while True:
        task = _newest(sqs, source_arn)
        if task["Status"] not in ("RUNNING", "CANCELLING") or time.monotonic() > deadline:
            return task
        time.sleep(0.1)


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_running_task_resumes_after_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs = server.client("sqs")
        dlq, dlq_arn = _dead_letter_queue(sqs, "moves")
        target = sqs.create_queue(QueueName="moves-target")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)]
        )
        handle = sqs.start_message_move_task(
            SourceArn=dlq_arn, DestinationArn=_arn(sqs, target), MaxNumberOfMessagesPerSecond=1
        )["TaskHandle"]
        time.sleep(1.5)
        running = _newest(sqs, dlq_arn)
        assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
        assert 1 <= running["ApproximateNumberOfMessagesMoved"] < 6
    finally:
        server.kill()
    server = start_server(data, port=server.port)
    try:
        sqs = server.client("sqs")
        task = _finished(sqs, dlq_arn)
        assert task["Status"] == "COMPLETED", task
        assert (
            task["ApproximateNumberOfMessagesMoved"] == 6 and task["ApproximateNumberOfMessagesToMove"] == 6
        )
        assert task["MaxNumberOfMessagesPerSecond"] == 1 and "TaskHandle" not in task
        assert _count(sqs, dlq) == 0 and _count(sqs, target) == 6
    finally:
        server.stop()


def test_cancelled_task_stays_cancelled_across_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs = server.client("sqs")
        dlq, dlq_arn = _dead_letter_queue(sqs, "cancel")
        target = sqs.create_queue(QueueName="cancel-target")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)]
        )
        handle = sqs.start_message_move_task(
            SourceArn=dlq_arn, DestinationArn=_arn(sqs, target), MaxNumberOfMessagesPerSecond=1
        )["TaskHandle"]
        moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
        assert 0 <= moved < 5
        assert _finished(sqs, dlq_arn)["Status"] == "CANCELLED"
    finally:
        server.stop()
    server = start_server(data, port=server.port)
    try:
        sqs = server.client("sqs")
        task = _newest(sqs, dlq_arn)
        assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] < 5
        assert _count(sqs, dlq) + _count(sqs, target) == 5
    finally:
        server.stop()


def test_list_shows_the_ten_most_recent_tasks(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        sqs = server.client("sqs")
        _dlq, dlq_arn = _dead_letter_queue(sqs, "history")
        handles = []
        for _task in range(12):
            handles.append(sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"])
            assert _finished(sqs, dlq_arn)["Status"] == "COMPLETED"
        listed = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
        assert len(listed) == 10
        started = [task["StartedTimestamp"] for task in listed]
        assert started == sorted(started, reverse=True)
        assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]) == 1
    finally:
        server.stop()
    server = start_server(tmp_path / "data", port=server.port)
    try:
        listed = server.client("sqs").list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
        assert len(listed) == 10 and {task["Status"] for task in listed} == {"COMPLETED"}
    finally:
        server.stop()
