"""Coalescing SQS deliveries: concurrent deliveries to one queue share calls, refusals stay
with the delivery that caused them."""

from __future__ import annotations

import asyncio

import pytest

from kumoi.core.delivery import DeliverySource, OutgoingMessage
from kumoi.core.errors import ServiceError
from kumoi.services.sns.batching import MAX_BATCH, QueueBatcher

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
SOURCE = DeliverySource("sns.amazonaws.com", "arn:aws:sns:us-east-1:000000000000:t", "000000000000")


class Queues:
    """A QueueDelivery that records its calls; each call waits for ``release``; bodies starting
    with ``bad`` are refused (the whole call, as SendMessageBatch's validation does)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()

    async def deliver(
        self, queue_arn: str, messages: list[OutgoingMessage], *, source: DeliverySource | None = None
    ) -> list[str]:
        assert queue_arn == QUEUE and source == SOURCE
        self.calls.append([message.body for message in messages])
        await self.release.wait()
        if any(message.body.startswith("bad") for message in messages):
            raise ServiceError("InvalidParameterValue", "refused")
        return [message.body for message in messages]


async def turns(count: int = 5) -> None:
    """Let the event loop run a few turns."""
    for _ in range(count):
        await asyncio.sleep(0)


def messages(*bodies: str) -> list[OutgoingMessage]:
    return [OutgoingMessage(body) for body in bodies]


def test_deliveries_of_one_turn_share_a_call_and_calls_overlap() -> None:
    async def scenario() -> None:
        queues = Queues()
        batcher = QueueBatcher(queues)
        first = [batcher.submit(QUEUE, SOURCE, messages(f"a{i}")) for i in range(3)]
        await turns()  # the publishes run, then the call starts (and waits for release)
        second = [batcher.submit(QUEUE, SOURCE, messages(f"b{i}")) for i in range(2)]
        await turns()
        assert queues.calls == [["a0", "a1", "a2"], ["b0", "b1"]]  # not held behind the first call
        queues.release.set()
        await asyncio.gather(*first, *second)

    asyncio.run(scenario())


def test_a_refused_message_fails_only_its_own_delivery() -> None:
    async def scenario() -> None:
        queues = Queues()
        queues.release.set()
        batcher = QueueBatcher(queues)
        good = batcher.submit(QUEUE, SOURCE, messages("b", "c"))
        bad = batcher.submit(QUEUE, SOURCE, messages("bad"))
        await good
        with pytest.raises(ServiceError):
            await bad
        assert queues.calls == [["b", "c", "bad"], ["b", "c"], ["bad"]]

    asyncio.run(scenario())


def test_a_call_carries_at_most_max_batch_messages() -> None:
    async def scenario() -> None:
        queues = Queues()
        queues.release.set()
        batcher = QueueBatcher(queues)
        waiting = [batcher.submit(QUEUE, SOURCE, messages(*["x"] * 30)) for _ in range(10)]
        await asyncio.gather(*waiting)
        assert sum(len(call) for call in queues.calls) == 300
        assert all(len(call) <= MAX_BATCH for call in queues.calls)

    asyncio.run(scenario())
