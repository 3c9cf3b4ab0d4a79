"""SqsRepository contract: queues, claim semantics, receipts, FIFO group ordering, counts."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from kumoi.storage.meta.contract import (
    MessageRecord,
    MoveTaskRecord,
    QueueMissing,
    QueueRecord,
    ReceiveAttempt,
    Redrive,
    VisibilityChange,
)
from tests.storage_contract.conftest import Env, Runner

ACCOUNT = "111122223333"
NOW = 1_000.0
_ids = itertools.count()


def queue(name: str = "q", account: str = ACCOUNT) -> QueueRecord:
    return QueueRecord(
        account_id=account,
        name=name,
        created=1.0,
        attributes={"VisibilityTimeout": "30"},
        tags={"team": "a"},
        last_modified=1.0,
    )


def msg(body: str = "hello", visible_at: float = NOW, group: str | None = None) -> MessageRecord:
    return MessageRecord(
        message_id=f"m-{next(_ids)}",
        body=body,
        sent_at=NOW,
        visible_at=visible_at,
        attrs={"MessageAttributes": {"a": {"DataType": "String", "StringValue": "1"}}},
        group_id=group,
        dedup_id=None if group is None else f"d-{body}",
    )


def stored(message: MessageRecord) -> int:
    """The sequence a receipt handle names the message by."""
    assert message.sequence is not None
    return message.sequence


async def new_queue(env: Env, name: str = "q") -> int:
    record = await env.meta.sqs.create_queue(queue(name))
    assert record.queue_id is not None
    return record.queue_id


def test_queue_lifecycle(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        created = await sqs.create_queue(queue())
        assert created.queue_id is not None and created.name == "q" and created.tags == {"team": "a"}
        changed = queue()
        changed.attributes = {"VisibilityTimeout": "99"}
        again = await sqs.create_queue(changed)
        assert again == created  # existing queue returned unchanged
        assert await sqs.get_queue(ACCOUNT, "q") == created
        assert await sqs.get_queue("999999999999", "q") is None

        created.attributes = {"DelaySeconds": "5"}
        created.tags = {}
        created.last_modified = 7.0
        await sqs.update_queue(created)
        assert await sqs.get_queue(ACCOUNT, "q") == created

        await sqs.send(created.queue_id, [msg(), msg()])
        assert await sqs.delete_queue(created.queue_id) is True
        assert await sqs.delete_queue(created.queue_id) is False
        assert await sqs.get_queue(ACCOUNT, "q") is None
        recreated = await new_queue(env)
        assert await sqs.receive(recreated, NOW, 10, 30, False) == []

    contract(body)


def test_list_queues(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        names = ["orders", "orders-dlq", "orders.fifo", "payments", "zz"]
        for name in reversed(names):
            await sqs.create_queue(queue(name))
        await sqs.create_queue(queue("orders", account="999999999999"))
        assert [q.name for q in await sqs.list_queues(ACCOUNT)] == names
        assert [q.name for q in await sqs.list_queues(ACCOUNT, prefix="orders")] == names[:3]
        assert [q.name for q in await sqs.list_queues(ACCOUNT, prefix="orders", after="orders-dlq")] == [
            "orders.fifo"
        ]
        assert [q.name for q in await sqs.list_queues(ACCOUNT, limit=1)] == ["orders"]

    contract(body)


def test_send_to_missing_queue(contract: Runner) -> None:
    async def body(env: Env) -> None:
        with pytest.raises(QueueMissing):
            await env.meta.sqs.send(424242, [msg()])

    contract(body)


def test_sequences_increase_per_queue(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        q1, q2 = await new_queue(env, "a"), await new_queue(env, "b")
        seqs1 = [seq for _id, seq in await sqs.send(q1, [msg() for _ in range(3)])]
        await sqs.send(q2, [msg()])
        seqs1 += [seq for _id, seq in await sqs.send(q1, [msg()])]
        await sqs.purge(q1)
        seqs1 += [seq for _id, seq in await sqs.send(q1, [msg()])]
        assert seqs1 == sorted(seqs1) and len(set(seqs1)) == len(seqs1)

    contract(body)


def test_receive_claims_and_round_trips(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env)
        sent = [msg(f"b{i}") for i in range(5)]
        sequences = await sqs.send(qid, sent)
        got = await sqs.receive(qid, NOW, 3, 30.0, False)
        assert [m.body for m in got] == ["b0", "b1", "b2"]
        first = got[0]
        assert first.message_id == sent[0].message_id and first.attrs == sent[0].attrs
        assert (first.message_id, first.sequence) == sequences[0]
        assert first.visible_at == NOW + 30 and first.receive_count == 1 and first.first_received_at == NOW
        assert len({m.receipt for m in got}) == 3 and all(m.receipt for m in got)
        # Claimed messages are invisible to a second receive.
        assert [m.body for m in await sqs.receive(qid, NOW, 10, 30.0, False)] == ["b3", "b4"]
        assert await sqs.receive(qid, NOW + 1, 10, 30.0, False) == []
        # After the visibility timeout they come back, with a new receipt and count.
        again = await sqs.receive(qid, NOW + 31, 1, 30.0, False)
        assert again[0].message_id == first.message_id
        assert again[0].receive_count == 2 and again[0].first_received_at == NOW
        assert again[0].receipt != first.receipt

    contract(body)


def test_concurrent_receives_never_share_a_message(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env)
        await sqs.send(qid, [msg(f"b{i}") for i in range(100)])
        batches = await asyncio.gather(*(sqs.receive(qid, NOW, 10, 30.0, False) for _ in range(15)))
        ids = [m.message_id for batch in batches for m in batch]
        assert len(ids) == 100 and len(set(ids)) == 100

    contract(body)


def test_delayed_messages_wait(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env)
        await sqs.send(qid, [msg("late", visible_at=NOW + 10), msg("now")])
        assert await sqs.count_messages(qid, NOW) == (1, 0, 1)
        assert [m.body for m in await sqs.receive(qid, NOW, 10, 30.0, False)] == ["now"]
        assert await sqs.count_messages(qid, NOW) == (0, 1, 1)
        assert [m.body for m in await sqs.receive(qid, NOW + 10, 10, 30.0, False)] == ["late"]
        assert await sqs.count_messages(qid, NOW + 10) == (0, 2, 0)
        assert await sqs.count_messages(qid, NOW + 100) == (2, 0, 0)

    contract(body)


def test_delete_message_needs_current_receipt(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env)
        await sqs.send(qid, [msg()])
        (first,) = await sqs.receive(qid, NOW, 1, 30.0, False)
        (second,) = await sqs.receive(qid, NOW + 31, 1, 30.0, False)
        assert first.receipt and second.receipt
        assert await sqs.delete_message(qid, stored(first), first.receipt) is False  # stale
        assert await sqs.delete_message(qid, stored(first), "forged") is False
        assert await sqs.delete_message(qid + 1, stored(first), second.receipt) is False
        assert await sqs.delete_message(qid, stored(second), second.receipt) is True
        assert await sqs.delete_message(qid, stored(second), second.receipt) is False
        assert await sqs.count_messages(qid, NOW + 31) == (0, 0, 0)

    contract(body)


def test_change_visibility(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs, clock = env.meta.sqs, env.clock
        now = clock.now()
        qid = await new_queue(env)
        await sqs.send(qid, [msg(visible_at=now - 1)])
        (m,) = await sqs.receive(qid, now, 1, 30.0, False)
        assert m.receipt
        changed, missing = VisibilityChange.CHANGED, VisibilityChange.NOT_FOUND
        assert await sqs.change_visibility(qid, stored(m), "stale", now) is missing
        assert await sqs.change_visibility(qid, stored(m), m.receipt, now + 100) is changed
        assert await sqs.receive(qid, now + 50, 1, 30.0, False) == []
        assert await sqs.change_visibility(qid, stored(m), m.receipt, now) is changed  # visible again
        not_in_flight = await sqs.change_visibility(qid, stored(m), m.receipt, now + 5)
        assert not_in_flight is VisibilityChange.NOT_IN_FLIGHT
        (back,) = await sqs.receive(qid, now, 1, 30.0, False)
        assert back.message_id == m.message_id and back.receive_count == 2

    contract(body)


def test_purge(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid, other = await new_queue(env, "a"), await new_queue(env, "b")
        await sqs.send(qid, [msg() for _ in range(4)])
        await sqs.send(other, [msg()])
        await sqs.receive(qid, NOW, 2, 30.0, False)
        assert await sqs.purge(qid) == 4
        assert await sqs.count_messages(qid, NOW) == (0, 0, 0)
        assert await sqs.count_messages(other, NOW) == (1, 0, 0)

    contract(body)


def test_fifo_group_in_flight_blocks_the_group(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env, "q.fifo")
        await sqs.send(
            qid,
            [
                msg("a1", group="A"),
                msg("a2", group="A"),
                msg("b1", group="B"),
                msg("a3", group="A"),
                msg("b2", group="B"),
            ],
        )
        first = await sqs.receive(qid, NOW, 1, 30.0, True)
        assert [m.body for m in first] == ["a1"]
        # Group A is blocked while a1 is in flight; B is free.
        second = await sqs.receive(qid, NOW, 10, 30.0, True)
        assert [m.body for m in second] == ["b1", "b2"]
        assert await sqs.receive(qid, NOW, 10, 30.0, True) == []
        (a1,) = first
        assert a1.receipt
        assert await sqs.delete_message(qid, stored(a1), a1.receipt)
        assert [m.body for m in await sqs.receive(qid, NOW, 10, 30.0, True)] == ["a2", "a3"]

    contract(body)


def test_fifo_claims_only_the_visible_run_at_the_head_of_a_group(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        now = env.clock.now()
        qid = await new_queue(env, "q.fifo")
        await sqs.send(qid, [msg(f"a{i}", visible_at=now, group="A") for i in range(6)])
        batch = await sqs.receive(qid, now, 4, 30.0, True)
        assert [m.body for m in batch] == ["a0", "a1", "a2", "a3"]
        a0, a1 = batch[0], batch[1]
        assert a0.receipt and a1.receipt
        # a1 becomes visible again while a0 is still in flight: the group stays blocked.
        assert await sqs.change_visibility(qid, stored(a1), a1.receipt, now) is VisibilityChange.CHANGED
        assert await sqs.receive(qid, now, 10, 30.0, True) == []
        # With a0 gone, a1 heads the group and is claimable, but a2 (in flight) stops the run.
        assert await sqs.delete_message(qid, stored(a0), a0.receipt)
        assert [m.body for m in await sqs.receive(qid, now, 10, 30.0, True)] == ["a1"]
        # Once everything timed out, the group restarts from its head, in order.
        again = await sqs.receive(qid, now + 31, 10, 30.0, True)
        assert [m.body for m in again] == ["a1", "a2", "a3", "a4", "a5"]

    contract(body)


def test_fifo_limit_and_group_order(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env, "q.fifo")
        await sqs.send(qid, [msg(f"{g}{i}", group=g) for i in range(3) for g in "XYZ"])
        got = await sqs.receive(qid, NOW, 4, 30.0, True)
        assert [m.body for m in got] == ["X0", "X1", "X2", "Y0"]
        rest = await sqs.receive(qid, NOW, 10, 30.0, True)
        assert [m.body for m in rest] == ["Z0", "Z1", "Z2"]

    contract(body)


def test_fifo_deduplication_within_the_window(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env, "d.fifo")
        first, copy, other = msg("x", group="G"), msg("x", group="G"), msg("y", group="G")
        for m in (first, copy, other):
            m.dedup_key = m.dedup_id
        sent = await sqs.send(qid, [first, copy, other], dedup_window=300)
        assert sent[0] == sent[1] and sent[2][0] == other.message_id
        # Still deduplicated after the first one is deleted, but not after the window.
        (got, _y) = await sqs.receive(qid, NOW, 10, 30.0, True)
        assert got.receipt and await sqs.delete_message(qid, stored(got), got.receipt)
        later = msg("x", group="G")
        later.dedup_key, later.sent_at = later.dedup_id, NOW + 299
        assert await sqs.send(qid, [later], dedup_window=300) == [sent[0]]
        later.sent_at = NOW + 301
        assert (await sqs.send(qid, [later], dedup_window=300))[0][0] == later.message_id
        assert await sqs.expire(NOW + 10_000) == 0  # queue has no retention attribute: kept

    contract(body)


def test_retention_on_receive_and_expire(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        record = queue("r")
        record.attributes["MessageRetentionPeriod"] = "60"
        created = await sqs.create_queue(record)
        assert created.queue_id is not None
        qid = created.queue_id
        old, new = msg("old"), msg("new")
        new.sent_at = NOW + 50
        await sqs.send(qid, [old, new])
        assert [m.body for m in await sqs.receive(qid, NOW + 61, 10, 0.0, False, sent_after=NOW + 1)] == [
            "new"
        ]
        assert await sqs.expire(NOW + 200) == 1
        assert await sqs.count_messages(qid, NOW + 200) == (0, 0, 0)

    contract(body)


def test_redrive_moves_over_received_messages(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        source, dlq = await new_queue(env, "src"), await new_queue(env, "dlq")
        redrive = Redrive(dlq, 2, "arn:aws:sqs:us-east-1:111122223333:src")
        await sqs.send(source, [msg("a"), msg("b")])
        for attempt in range(2):
            got = await sqs.receive(source, NOW + attempt * 10, 10, 5.0, False, redrive=redrive)
            assert [m.body for m in got] == ["a", "b"]
        assert await sqs.receive(source, NOW + 100, 10, 5.0, False, redrive=redrive) == []
        moved = await sqs.receive(dlq, NOW + 100, 10, 5.0, False)
        assert [m.body for m in moved] == ["a", "b"] and moved[0].receive_count == 3
        assert moved[0].attrs["DeadLetterQueueSourceArn"] == redrive.source_arn

    contract(body)


def test_next_visible_peek_and_move(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid, other = await new_queue(env, "a"), await new_queue(env, "b")
        assert await sqs.next_visible_at(qid, NOW) is None
        await sqs.send(qid, [msg("now"), msg("later", visible_at=NOW + 7)])
        assert await sqs.next_visible_at(qid, NOW) == NOW + 7
        peeked = await sqs.peek_visible(qid, NOW, 10)
        assert [m.body for m in peeked] == ["now"] and peeked[0].sequence is not None
        assert await sqs.move_messages(qid, [(peeked[0].sequence, other)], NOW) == 1
        assert await sqs.move_messages(qid, [(peeked[0].sequence, other)], NOW) == 0
        assert [m.body for m in await sqs.receive(other, NOW, 10, 30.0, False)] == ["now"]

    contract(body)


def test_batch_deletes_and_visibility_changes(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        now = env.clock.now()
        qid = await new_queue(env)
        await sqs.send(qid, [msg(visible_at=now - 1) for _ in range(3)])
        got = await sqs.receive(qid, now, 3, 30.0, False)
        handles = [(stored(m), m.receipt or "") for m in got]
        changes = [(handles[0][0], handles[0][1], now + 100), (handles[1][0], "stale", now)]
        outcomes = await sqs.change_visibilities(qid, changes)
        assert outcomes == [VisibilityChange.CHANGED, VisibilityChange.NOT_FOUND]
        assert await sqs.delete_messages(qid, [handles[2], (handles[1][0], "stale")]) == [True, False]
        assert await sqs.count_messages(qid, now) == (0, 2, 0)

    contract(body)


def test_send_returns_increasing_sequences_for_a_batch(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env)
        first = await sqs.send(qid, [msg(f"a{i}") for i in range(3)])
        second = await sqs.send(qid, [msg(f"b{i}") for i in range(4)])
        sequences = [sequence for _id, sequence in first + second]
        assert sequences == sorted(set(sequences))
        got = await sqs.receive(qid, NOW, 10, 30.0, False)
        assert [(m.message_id, m.sequence) for m in got] == first + second

    contract(body)


def test_receive_attempt_replays_untouched_claims(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        qid = await new_queue(env, "attempts.fifo")
        await sqs.send(qid, [msg(f"g{i}", group="g") for i in range(3)])
        attempt = ReceiveAttempt("a-1", NOW + 300)
        first = await sqs.receive(qid, NOW, 2, 30.0, True, attempt=attempt)
        assert [m.body for m in first] == ["g0", "g1"]
        again = await sqs.receive(qid, NOW + 10, 2, 30.0, True, attempt=attempt)
        assert [(m.message_id, m.receipt, m.receive_count) for m in again] == [
            (m.message_id, m.receipt, m.receive_count) for m in first
        ]
        assert {m.visible_at for m in again} == {NOW + 40}
        # Another attempt id is a new receive: the group is blocked.
        assert await sqs.receive(qid, NOW + 10, 2, 30.0, True, attempt=ReceiveAttempt("a-2", NOW + 300)) == []
        # A deleted message ends the replay.
        assert first[0].receipt is not None
        assert await sqs.delete_message(qid, stored(first[0]), first[0].receipt)
        assert await sqs.receive(qid, NOW + 11, 2, 30.0, True, attempt=attempt) == []
        # Past the attempt's expiry the id starts afresh.
        late = await sqs.receive(qid, NOW + 301, 2, 30.0, True, attempt=attempt)
        assert [m.body for m in late] == ["g1", "g2"] and late[0].receive_count == 2

    contract(body)


def test_move_tasks_are_stored(contract: Runner) -> None:
    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        source = await new_queue(env, "dlq")
        target = await new_queue(env, "target")
        sent = await sqs.send(source, [msg(f"m{i}") for i in range(3)])
        arn = "arn:aws:sqs:us-east-1:111122223333:dlq"
        for index in range(4):
            task = MoveTaskRecord(f"h{index}", arn, source, None, None, index, 0, status="COMPLETED")
            await sqs.create_move_task(task, keep=2)
        running = MoveTaskRecord("run", arn, source, "arn:target", 5, 10, 3)
        await sqs.create_move_task(running, keep=2)
        moved = await sqs.move_task_messages("run", source, [(sent[0][1], target), (sent[1][1], target)], NOW)
        assert moved == 2
        listed = await sqs.list_move_tasks(arn, 10)
        assert [t.handle for t in listed] == ["run", "h3"]
        assert listed[0] == MoveTaskRecord("run", arn, source, "arn:target", 5, 10, 3, moved=2)
        assert [t.handle for t in await sqs.unfinished_move_tasks()] == ["run"]
        await sqs.update_move_task("run", "FAILED", "broken")
        assert await sqs.unfinished_move_tasks() == []
        (failed,) = await sqs.list_move_tasks(arn, 1)
        assert (failed.status, failed.failure) == ("FAILED", "broken")
        assert [m.body for m in await sqs.receive(target, NOW, 10, 30.0, False)] == ["m0", "m1"]
        await sqs.delete_queue(source)
        assert await sqs.list_move_tasks(arn, 10) == []

    contract(body)


def test_large_receives_and_deletes_keep_order_and_handles(contract: Runner) -> None:
    """Claims and deletes of more messages than one statement names keep their order, give each
    message its own receipt, and delete only what a current receipt names."""

    async def body(env: Env) -> None:
        sqs = env.meta.sqs
        now = env.clock.now()
        qid = await new_queue(env)
        await sqs.send(qid, [msg(f"m{i}", visible_at=now - 1) for i in range(25)])
        got = await sqs.receive(qid, now, 25, 30.0, False)
        assert [m.body for m in got] == [f"m{i}" for i in range(25)]
        assert len({m.receipt for m in got}) == 25 and all(m.receive_count == 1 for m in got)
        handles = [(stored(m), m.receipt or "") for m in got]
        outcome = await sqs.delete_messages(qid, [*handles[:12], (handles[12][0], "stale"), handles[0]])
        assert outcome == [True] * 12 + [False, True]
        assert await sqs.delete_messages(qid + 1, handles[13:]) == [False] * 12
        assert await sqs.count_messages(qid, now) == (0, 13, 0)

    contract(body)
