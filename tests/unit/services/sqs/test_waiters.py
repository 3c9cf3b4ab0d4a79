"""QueueWaiters: waking long polls, and handing a send's fresh messages to armed receivers."""

from __future__ import annotations

import asyncio

from kumoi.services.sqs.waiters import QueueWaiters
from kumoi.storage.meta.contract import MessageRecord

NOW = 1000.0


def _records(*bodies: str, delay: float = 0.0) -> list[MessageRecord]:
    return [MessageRecord(message_id=body, body=body, sent_at=NOW, visible_at=NOW + delay) for body in bodies]


class _Released:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[str]]] = []

    def __call__(self, queue_id: int, records: list[MessageRecord]) -> None:
        self.calls.append((queue_id, [r.body for r in records]))


def test_notify_wakes_every_waiter_of_the_queue_only() -> None:
    async def main() -> None:
        waiters = QueueWaiters(_Released())
        first, second, other = waiters.watch(1), waiters.watch(1), waiters.watch(2)
        waiters.notify(1)
        assert await waiters.wait(1, first, 5) is None
        assert await waiters.wait(1, second, 5) is None
        assert not other.future.done()
        assert await waiters.wait(2, other, 0.01) is None  # timed out
        assert not waiters.withdraw(2, other)  # the timeout unregistered it

    asyncio.run(main())


def test_hand_out_serves_armed_waiters_in_arrival_order_up_to_their_limits() -> None:
    async def main() -> None:
        waiters = QueueWaiters(_Released())
        unarmed = waiters.watch(1)
        first, second, third = waiters.watch(1), waiters.watch(1), waiters.watch(1)
        waiters.arm(first, 2, 30)
        waiters.arm(second, 3, 60)
        waiters.arm(third, 10, 30)
        records = _records("a", "b", "c", "d") + _records("later", delay=5)
        taken = waiters.hand_out(1, records, NOW)
        assert taken == [first, second]
        assert [r.body for r in first.taken] == ["a", "b"]
        assert [r.body for r in second.taken] == ["c", "d"]
        for record, visibility in zip(records[:4], (30, 30, 60, 60), strict=True):
            assert record.receipt and len(record.receipt) >= 16
            assert record.receive_count == 1 and record.first_received_at == NOW
            assert record.visible_at == NOW + visibility
        assert records[4].receipt is None and records[4].visible_at == NOW + 5
        assert len({r.receipt for r in records[:4]}) == 4
        waiters.settle(1, taken, stored=True)
        assert [r.body for r in (await waiters.wait(1, first, 5) or [])] == ["a", "b"]
        assert [r.body for r in (await waiters.wait(1, second, 5) or [])] == ["c", "d"]
        # The others are still waiting, and a notify still wakes them.
        waiters.notify(1)
        assert await waiters.wait(1, third, 5) is None
        assert await waiters.wait(1, unarmed, 5) is None

    asyncio.run(main())


def test_a_taken_waiter_waits_past_its_deadline_for_the_send() -> None:
    async def main() -> None:
        waiters = QueueWaiters(_Released())
        waiter = waiters.watch(7)
        waiters.arm(waiter, 10, 30)
        taken = waiters.hand_out(7, _records("a"), NOW)
        poll = asyncio.ensure_future(waiters.wait(7, waiter, 0.01))
        await asyncio.sleep(0.05)  # past the poll's own timeout: the commit is under way
        assert not poll.done()
        waiters.settle(7, taken, stored=True)
        assert [r.body for r in (await poll) or []] == ["a"]

    asyncio.run(main())


def test_a_failed_send_lets_its_waiters_look_again() -> None:
    async def main() -> None:
        waiters = QueueWaiters(_Released())
        waiter = waiters.watch(1)
        waiters.arm(waiter, 10, 30)
        taken = waiters.hand_out(1, _records("a"), NOW)
        waiters.settle(1, taken, stored=False)
        assert await waiters.wait(1, waiter, 5) is None

    asyncio.run(main())


def test_messages_handed_to_a_receiver_that_went_away_are_released() -> None:
    async def main() -> None:
        released = _Released()
        waiters = QueueWaiters(released)
        # Cancelled while the send's commit runs: the send gives the messages back.
        waiter = waiters.watch(1)
        waiters.arm(waiter, 10, 30)
        taken = waiters.hand_out(1, _records("a"), NOW)
        poll = asyncio.ensure_future(waiters.wait(1, waiter, 5))
        await asyncio.sleep(0)
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
        waiters.settle(1, taken, stored=True)
        assert released.calls == [(1, ["a"])]
        # Cancelled after the commit handed them over, before the receiver ran: it gives them back.
        waiter = waiters.watch(2)
        waiters.arm(waiter, 10, 30)
        poll = asyncio.ensure_future(waiters.wait(2, waiter, 5))
        await asyncio.sleep(0)
        taken = waiters.hand_out(2, _records("b"), NOW)
        waiters.settle(2, taken, stored=True)
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
        assert released.calls == [(1, ["a"]), (2, ["b"])]
        # Cancelled before any send: nothing is handed to it afterwards.
        waiter = waiters.watch(3)
        waiters.arm(waiter, 10, 30)
        poll = asyncio.ensure_future(waiters.wait(3, waiter, 5))
        await asyncio.sleep(0)
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
        assert waiters.hand_out(3, _records("c"), NOW) == []

    asyncio.run(main())
