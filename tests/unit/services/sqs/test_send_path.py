"""The send path's shortcuts give what the general code gives.

Text validity (two C scans before the character class), a body-only message (which skips the
attribute, group and delay rules), and the store's multi-row inserts (sequences handed back in
order, whatever the number of messages and however it is split into statements).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError
from kumoi.protocol.xml import NOT_XML_CHARS
from kumoi.services.sqs.messages import QueueRules, prepare, valid_text
from kumoi.storage.meta.contract import MessageRecord, QueueMissing, QueueRecord
from kumoi.storage.meta.sqlite.sqs import _INSERT_ROWS
from kumoi.storage.meta.sqlite.store import SqliteMetadataStore

#: Characters around every boundary of SQS's valid ranges, and some ordinary ones.
_EDGES = st.sampled_from(
    [
        *("\x00", "\x08", "\t", "\n", "\x0b", "\r", "\x1f", " ", "~", "\x7f", "\x80", "é", "\ud7ff"),
        *("\ud800", "\udfff", "\ue000", "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0010ffff", "a"),
    ]
)
STANDARD = QueueRules(fifo=False, max_bytes=262_144, delay=7, content_dedup=False, group_scope=False)


@settings(max_examples=500, deadline=None)
@given(st.lists(_EDGES | st.characters(), max_size=12).map("".join))
def test_valid_text_is_the_character_class(text: str) -> None:
    assert valid_text(text) == (NOT_XML_CHARS.search(text) is None)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40), st.sampled_from(["Id", "QueueUrl"]))
def test_a_body_only_message_is_prepared_like_any_other(body: str, other: str) -> None:
    """The general path, reached by naming the queue's own delay, decides the same."""

    def outcome(entry: Mapping[str, object]) -> object:
        try:
            prepared = prepare(entry, STANDARD, 100.0, "AIDA")
        except ServiceError as error:
            return (error.code, error.message)
        record = prepared.record
        return (
            record.body,
            record.sent_at,
            record.visible_at,
            record.attrs,
            record.group_id,
            record.dedup_id,
            record.dedup_key,
            record.receipt,
            record.receive_count,
            prepared.size,
            prepared.body_md5,
            prepared.attributes_md5,
            prepared.system_md5,
        )

    plain = {other: "x", "MessageBody": body}
    assert outcome(plain) == outcome({**plain, "DelaySeconds": STANDARD.delay})


def test_a_body_only_message_over_the_queue_limit_is_refused() -> None:
    small = QueueRules(fifo=False, max_bytes=1024, delay=0, content_dedup=False, group_scope=False)
    with pytest.raises(ServiceError) as caught:
        prepare({"Id": "a", "MessageBody": "é" * 513}, small, 0.0, "AIDA")
    assert caught.value.message == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    )


def test_a_body_only_message_to_a_fifo_queue_still_needs_its_group() -> None:
    fifo = QueueRules(fifo=True, max_bytes=1024, delay=0, content_dedup=True, group_scope=False)
    with pytest.raises(ServiceError) as caught:
        prepare({"Id": "a", "MessageBody": "b"}, fifo, 0.0, "AIDA")
    assert caught.value.code == "MissingParameter"


def _messages(count: int, prefix: str) -> list[MessageRecord]:
    return [
        MessageRecord(f"{prefix}-{index}", f"body {index}", 1.0, 1.0, {"SenderId": "AIDA"})
        for index in range(count)
    ]


def test_the_store_hands_back_each_message_its_sequence(tmp_path: Path) -> None:
    """Counts on both sides of every statement size, so every split into statements is used."""
    counts = [1, 2, 3, 7, _INSERT_ROWS - 1, _INSERT_ROWS, _INSERT_ROWS + 1, 2 * _INSERT_ROWS + 3, 300]

    async def main() -> None:
        store = SqliteMetadataStore(tmp_path / "meta.db", clock=Clock())
        await store.start()
        try:
            queue = await store.sqs.create_queue(QueueRecord("000000000000", "q", 0.0, {}, {}))
            assert queue.queue_id is not None
            sent: dict[str, int] = {}
            for round_, count in enumerate(counts):
                messages = _messages(count, f"r{round_}")
                stored = await store.sqs.send(queue.queue_id, messages)
                assert [message_id for message_id, _sequence in stored] == [m.message_id for m in messages]
                sequences = [sequence for _message_id, sequence in stored]
                assert sequences == list(range(sequences[0], sequences[0] + count))
                sent.update(stored)
            peeked = await store.sqs.peek_visible(queue.queue_id, 2.0, 10_000)
            assert {m.message_id: m.sequence for m in peeked} == sent
            bodies = {m.message_id: m.body for m in peeked}
            assert bodies["r8-299"] == "body 299" and bodies["r0-0"] == "body 0"
            assert await store.sqs.delete_queue(queue.queue_id)
            with pytest.raises(QueueMissing):
                await store.sqs.send(queue.queue_id, _messages(3, "gone"))
        finally:
            await store.close()

    asyncio.run(main())


def test_a_fifo_receive_takes_grouped_and_ungrouped_messages(tmp_path: Path) -> None:
    """The group index holds only messages with a group; a FIFO queue's messages without one
    (a move task can bring them from a standard queue) are still received, in order."""

    def message(message_id: str, group_id: str | None) -> MessageRecord:
        return MessageRecord(message_id, message_id, 1.0, 1.0, {}, group_id=group_id)

    async def main() -> None:
        store = SqliteMetadataStore(tmp_path / "meta.db", clock=Clock())
        await store.start()
        try:
            queue = await store.sqs.create_queue(QueueRecord("000000000000", "q.fifo", 0.0, {}, {}))
            assert queue.queue_id is not None
            sent = [message("g1", "a"), message("n1", None), message("g2", "a"), message("n2", None)]
            await store.sqs.send(queue.queue_id, sent)
            first = await store.sqs.receive(queue.queue_id, 2.0, 10, 30.0, True)
            assert [m.message_id for m in first] == ["g1", "g2", "n1", "n2"]
            assert await store.sqs.receive(queue.queue_id, 2.0, 10, 30.0, True) == []
        finally:
            await store.close()

    asyncio.run(main())
