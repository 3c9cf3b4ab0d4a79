"""SendCoalescer: concurrent sends to a queue become one store write, each caller gets its slice."""

from __future__ import annotations

import asyncio

import pytest

from kumoi.services.sqs.coalesce import SendCoalescer, Stored
from kumoi.storage.meta.contract import MessageRecord


def _records(*bodies: str) -> list[MessageRecord]:
    return [MessageRecord(message_id=body, body=body, sent_at=0.0, visible_at=0.0) for body in bodies]


class _Store:
    def __init__(self, fail: Exception | None = None) -> None:
        self.writes: list[tuple[int, list[str]]] = []
        self.fail = fail

    async def send(self, queue_id: int, records: list[MessageRecord]) -> Stored:
        self.writes.append((queue_id, [r.body for r in records]))
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return [(r.message_id, 100 * queue_id + index) for index, r in enumerate(records)]


def test_concurrent_sends_share_one_write_per_queue() -> None:
    async def main() -> None:
        store = _Store()
        sends = SendCoalescer(store.send)
        results = await asyncio.gather(
            sends.send(1, _records("a")),
            sends.send(1, _records("b", "c")),
            sends.send(2, _records("x")),
            sends.send(1, _records("d")),
        )
        assert sorted(store.writes) == [(1, ["a", "b", "c", "d"]), (2, ["x"])]
        assert results == [[("a", 100)], [("b", 101), ("c", 102)], [("x", 200)], [("d", 103)]]
        # A later send is a new write.
        assert await sends.send(1, _records("e")) == [("e", 100)]
        assert len(store.writes) == 3

    asyncio.run(main())


def test_a_failed_write_fails_every_caller() -> None:
    async def main() -> None:
        sends = SendCoalescer(_Store(fail=RuntimeError("store down")).send)
        outcomes = await asyncio.gather(
            sends.send(1, _records("a")), sends.send(1, _records("b")), return_exceptions=True
        )
        assert [str(outcome) for outcome in outcomes] == ["store down", "store down"]

    asyncio.run(main())


def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    async def main() -> None:
        store = _Store()
        sends = SendCoalescer(store.send)
        first = asyncio.ensure_future(sends.send(1, _records("a")))
        second = asyncio.ensure_future(sends.send(1, _records("b")))
        await asyncio.sleep(0)
        first.cancel()
        assert await second == [("b", 101)]
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(main())
