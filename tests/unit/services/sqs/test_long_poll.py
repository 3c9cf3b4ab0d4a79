"""A long poll wakes when a hidden message becomes visible, even if that happens while its own
receive is running (a slow commit), on the real store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from kumoi.core.clock import Clock
from kumoi.core.context import Caller, RequestContext
from kumoi.services.sqs.provider import SqsProvider
from kumoi.storage.meta.sqlite.store import SqliteMetadataStore

CALLER = Caller("000000000000", "arn:aws:iam::000000000000:root", "AIDA", "AKIA")


def _ctx(operation: str) -> RequestContext:
    return RequestContext("r", "sqs", operation, "us-east-1", CALLER, "http://localhost:4566", "localhost")


def test_a_message_visible_again_during_the_receive_is_not_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(adjustable=True)

    async def main() -> float:
        store = SqliteMetadataStore(tmp_path / "meta.db", clock=clock)
        await store.start()
        try:
            sqs = SqsProvider(store, clock)
            url = (await sqs.create_queue(_ctx("CreateQueue"), {"QueueName": "q"}))["QueueUrl"]
            await sqs.send_message(_ctx("SendMessage"), {"QueueUrl": url, "MessageBody": "soon"})
            hide = {"QueueUrl": url, "VisibilityTimeout": 1}
            assert (await sqs.receive_message(_ctx("ReceiveMessage"), hide))["Messages"]
            receive = store.sqs.receive

            async def slow_receive(*args: Any, **kwargs: Any) -> Any:
                claimed = await receive(*args, **kwargs)
                clock.advance(2)  # the receive took two seconds: the message is visible by now
                return claimed

            monkeypatch.setattr(store.sqs, "receive", slow_receive)
            began = time.monotonic()
            poll = {"QueueUrl": url, "WaitTimeSeconds": 5}
            got = await sqs.receive_message(_ctx("ReceiveMessage"), poll)
            assert [message["Body"] for message in got["Messages"]] == ["soon"]
            return time.monotonic() - began
        finally:
            await store.close()

    assert asyncio.run(main()) < 1.0, "the poll looked again at once instead of sleeping to its deadline"
