"""The SQS provider: durable queues and messages in the metadata store.

Every message is written to the metadata store (group-committed) before SendMessage answers, and a
receive claims messages atomically there, so a message is never delivered to two receivers within
one visibility window and an acknowledged message survives a crash. A batch is one write job,
and concurrent sends to one queue share one (:mod:`kumoi.services.sqs.coalesce`). A receive is
one write job too, which also drops messages past retention and moves over-received
ones to the dead-letter queue. Long polls sleep until a send (or anything else that can make a
message available) wakes them, or until the next message becomes visible; on standard queues a
send hands its messages straight to the waiting long polls, stored already received in the send's
own transaction (:mod:`kumoi.services.sqs.waiters`), so a long-polled message costs one commit.

The provider also implements :class:`kumoi.core.delivery.QueueDelivery`, through which other
services (SNS, S3 notifications) send to queues.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.delivery import DeliverySource, OutgoingMessage
from kumoi.core.errors import ServiceError
from kumoi.services.sqs import attributes as queue_attributes
from kumoi.services.sqs import limits
from kumoi.services.sqs.batches import check_batch, failure
from kumoi.services.sqs.coalesce import SendCoalescer
from kumoi.services.sqs.messages import (
    SYSTEM_NAMES,
    Prepared,
    QueueRules,
    check_attempt_id,
    invalid_parameter,
    message_output,
    prepare,
    sequence_number,
)
from kumoi.services.sqs.moves import Destination, MoveTasks, describe, task_not_found
from kumoi.services.sqs.permissions import add_permission, remove_permission
from kumoi.services.sqs.queues import QueueDirectory, no_queue
from kumoi.services.sqs.receipts import parse_receipt, receipt_handle
from kumoi.services.sqs.urls import parse_queue_arn, queue_arn, queue_url
from kumoi.services.sqs.waiters import QueueWaiters
from kumoi.storage.meta.contract import (
    MessageRecord,
    MetadataStore,
    QueueMissing,
    QueueRecord,
    ReceiveAttempt,
    Redrive,
    VisibilityChange,
)

log = logging.getLogger("kumoi.sqs")

#: Shortest sleep of a long poll (a message due "now" according to the store).
MIN_POLL_SLEEP = 0.001
#: How often the retention sweep runs.
RETENTION_SWEEP_SECONDS = 5.0
#: Messages one sweep deletes at most.
RETENTION_SWEEP_BATCH = 5000
_QUEUE_NAME_RULE = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
_FIFO_NAME_RULE = (
    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
    "must end with .fifo suffix and be 1 to 80 in length."
)


def _int_param(request: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = request.get(name, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise invalid_parameter(name, value, f"Must be between {low} and {high}, if provided.")
    return value


def _valid_name(name: str) -> bool:
    stem = name.removesuffix(".fifo")
    return (
        1 <= len(name) <= 80 and bool(stem) and all(c.isascii() and (c.isalnum() or c in "-_") for c in stem)
    )


def _is_fifo(queue: QueueRecord) -> bool:
    return queue.attributes.get("FifoQueue") == "true"


def _queue_id(queue: QueueRecord) -> int:
    assert queue.queue_id is not None
    return queue.queue_id


def _sequence(message: MessageRecord) -> int:
    """Where a message is stored: known once it is (a handed-out message's store settles first)."""
    assert message.sequence is not None
    return message.sequence


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (ValueError, UnicodeError, binascii.Error):
        raise ServiceError("InvalidParameterValue", "Invalid or expired next token.") from None


class SqsProvider:
    def __init__(self, meta: MetadataStore, clock: Clock, region: str = "us-east-1") -> None:
        self._repo = meta.sqs
        self._clock = clock
        self._region = region
        self._queues = QueueDirectory(meta.sqs)
        self._waiters = QueueWaiters(self._release)
        self._background: set[asyncio.Task[None]] = set()
        self._moves = MoveTasks(meta.sqs, clock, self._waiters.notify)
        self._sends = SendCoalescer(self._send)
        self._purged: dict[int, float] = {}
        self._deleted: dict[tuple[str, str], float] = {}

    async def start(self) -> None:
        """Resume the message move tasks that were running when the server last stopped."""
        for task in await self._repo.unfinished_move_tasks():
            await self._moves.resume(task, self._destination(task.destination_arn))

    # --- queues ---------------------------------------------------------------------------------

    async def create_queue(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        name = request["QueueName"]
        given: dict[str, str] = dict(request.get("Attributes") or {})
        fifo = name.endswith(".fifo")
        if not _valid_name(name):
            raise ServiceError("InvalidParameterValue", _FIFO_NAME_RULE if fifo else _QUEUE_NAME_RULE)
        if "FifoQueue" in given and given["FifoQueue"].lower() != str(fifo).lower():
            raise ServiceError("InvalidParameterValue", _FIFO_NAME_RULE)
        if fifo:
            given["FifoQueue"] = "true"
        wanted = queue_attributes.validate(given, fifo=fifo, creating=True)
        tags = dict(request.get("tags") or {})
        _check_tags(tags, name)
        now = self._clock.now()
        existing = await self._queues.find(ctx.account_id, name)
        if existing is None:
            deleted = self._deleted.get((ctx.account_id, name))
            if deleted is not None and now - deleted < limits.QUEUE_NAME_REUSE_SECONDS:
                raise ServiceError(
                    "QueueDeletedRecently",
                    "You must wait 60 seconds after deleting a queue before you can create another "
                    "with the same name.",
                )
            arn = queue_arn(ctx.region, ctx.account_id, name)
            await self._check_redrive(wanted, arn, fifo)
            defaults = queue_attributes.FIFO_DEFAULTS if fifo else queue_attributes.STANDARD_DEFAULTS
            record = QueueRecord(
                ctx.account_id, name, now, _without_empty({**defaults, **wanted}), tags, last_modified=now
            )
            existing = await self._repo.create_queue(record)
            self._queues.remember(existing)
        differing = sorted(k for k, v in wanted.items() if existing.attributes.get(k, "") != v)
        if differing:
            raise ServiceError(
                "QueueNameExists",
                "A queue already exists with the same name and a different value for attribute(s) "
                + ", ".join(differing),
            )
        return {"QueueUrl": queue_url(ctx.base_url, ctx.account_id, name)}

    async def get_queue_url(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        account = request.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = await self._queues.find(account, request["QueueName"])
        if queue is None:
            raise no_queue()
        return {"QueueUrl": queue_url(ctx.base_url, account, queue.name)}

    async def list_queues(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        limit = _int_param(request, "MaxResults", 1, limits.MAX_LIST_QUEUES, limits.MAX_LIST_QUEUES)
        after = _decode_token(request["NextToken"]) if request.get("NextToken") else ""
        queues = await self._repo.list_queues(
            ctx.account_id, str(request.get("QueueNamePrefix", "")), after, limit + 1
        )
        output: dict[str, Any] = {}
        if queues:
            output["QueueUrls"] = [queue_url(ctx.base_url, q.account_id, q.name) for q in queues[:limit]]
        if len(queues) > limit and "MaxResults" in request:
            output["NextToken"] = _encode_token(queues[limit - 1].name)
        return output

    async def delete_queue(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        await self._repo.delete_queue(_queue_id(queue))
        self._queues.forget(queue)
        self._deleted[(queue.account_id, queue.name)] = self._clock.now()
        self._purged.pop(_queue_id(queue), None)
        self._waiters.notify(_queue_id(queue))
        return {}

    async def purge_queue(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        now = self._clock.now()
        last = self._purged.get(_queue_id(queue))
        if last is not None and now - last < limits.PURGE_INTERVAL_SECONDS:
            raise ServiceError(
                "PurgeQueueInProgress",
                f"Only one PurgeQueue operation on {queue.name} is allowed every "
                f"{limits.PURGE_INTERVAL_SECONDS} seconds.",
            )
        self._purged[_queue_id(queue)] = now
        await self._repo.purge(_queue_id(queue))
        return {}

    async def get_queue_attributes(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        names = list(request.get("AttributeNames") or [])
        for name in names:
            if name != "All" and name not in queue_attributes.ALL_NAMES:
                raise queue_attributes.unknown_attribute(name)
        wanted = queue_attributes.ALL_NAMES if "All" in names else set(names)
        everything: dict[str, str] = {k: v for k, v in queue.attributes.items() if k in wanted}
        everything.update(
            {
                "QueueArn": queue_arn(ctx.region, queue.account_id, queue.name),
                "CreatedTimestamp": str(int(queue.created)),
                "LastModifiedTimestamp": str(int(queue.last_modified or queue.created)),
            }
        )
        if wanted & {
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        }:
            visible, in_flight, delayed = await self._repo.count_messages(_queue_id(queue), self._clock.now())
            everything["ApproximateNumberOfMessages"] = str(visible)
            everything["ApproximateNumberOfMessagesNotVisible"] = str(in_flight)
            everything["ApproximateNumberOfMessagesDelayed"] = str(delayed)
        selected = {name: value for name, value in everything.items() if name in wanted}
        return {"Attributes": selected} if selected else {}

    async def set_queue_attributes(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        fifo = _is_fifo(queue)
        changes = queue_attributes.validate(dict(request["Attributes"]), fifo=fifo, creating=False)
        await self._check_redrive(changes, queue_arn(ctx.region, queue.account_id, queue.name), fifo)
        merged = _without_empty({**queue.attributes, **changes})
        if (
            merged.get("FifoThroughputLimit") == "perMessageGroupId"
            and merged.get("DeduplicationScope") == "queue"
        ):
            raise queue_attributes.invalid_value(
                "FifoThroughputLimit", "perMessageGroupId is only valid with DeduplicationScope messageGroup."
            )
        await self._update(queue, attributes=merged)
        return {}

    async def _check_redrive(self, changes: Mapping[str, str], source_arn: str, fifo: bool) -> None:
        value = changes.get("RedrivePolicy")
        if not value:
            return
        policy = queue_attributes.parse_redrive(value)
        target = await self._queues.by_arn(policy.dead_letter_arn)
        if target is None:
            raise queue_attributes.redrive_error(value, "Dead letter target does not exist.")
        if _is_fifo(target) != fifo:
            raise queue_attributes.redrive_error(
                value, "Dead-letter target must be of the same type (standard or FIFO) as the source queue."
            )
        if not queue_attributes.allows_source(target.attributes, source_arn):
            raise queue_attributes.redrive_error(
                value, "The dead-letter queue's RedriveAllowPolicy does not allow this queue as a source."
            )

    async def _update(
        self,
        queue: QueueRecord,
        *,
        attributes: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        record = QueueRecord(
            queue.account_id,
            queue.name,
            queue.created,
            dict(queue.attributes) if attributes is None else attributes,
            dict(queue.tags) if tags is None else tags,
            queue.queue_id,
            self._clock.now() if attributes is not None else queue.last_modified,
        )
        await self._repo.update_queue(record)
        self._queues.remember(record)

    # --- tags and permissions -----------------------------------------------------------------------

    async def tag_queue(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        tags = {**queue.tags, **request["Tags"]}
        _check_tags(tags, queue.name)
        await self._update(queue, tags=tags)
        return {}

    async def untag_queue(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        removed = set(request["TagKeys"])
        await self._update(queue, tags={k: v for k, v in queue.tags.items() if k not in removed})
        return {}

    async def list_queue_tags(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        return {"Tags": dict(queue.tags)} if queue.tags else {}

    async def add_permission(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        policy = add_permission(
            queue.attributes.get("Policy", ""),
            queue_arn(ctx.region, queue.account_id, queue.name),
            request["Label"],
            list(request["AWSAccountIds"]),
            list(request["Actions"]),
        )
        await self._update(queue, attributes={**queue.attributes, "Policy": policy})
        return {}

    async def remove_permission(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        policy = remove_permission(queue.attributes.get("Policy", ""), request["Label"])
        await self._update(queue, attributes=_without_empty({**queue.attributes, "Policy": policy}))
        return {}

    # --- sending --------------------------------------------------------------------------------

    async def send_message(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        prepared = prepare(request, QueueRules.of(queue), self._clock.now(), ctx.caller.user_id)
        ((message_id, sequence),) = await self._store(queue, [prepared.record])
        return _send_result(prepared, message_id, sequence, _is_fifo(queue))

    async def send_message_batch(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        entries = request["Entries"]
        check_batch(entries, "SendMessageBatchRequestEntry")
        rules = QueueRules.of(queue)
        now = self._clock.now()
        sender = ctx.caller.user_id
        failed: list[dict[str, Any]] = []
        ids: list[str] = []
        accepted: list[Prepared] = []
        total = 0
        for entry in entries:
            try:
                prepared = prepare(entry, rules, now, sender)
            except ServiceError as error:
                failed.append(failure(entry["Id"], error))
            else:
                ids.append(entry["Id"])
                accepted.append(prepared)
                total += prepared.size
        if total > limits.MAX_MESSAGE_BYTES:
            raise ServiceError(
                "BatchRequestTooLong",
                f"Batch requests cannot be longer than {limits.MAX_MESSAGE_BYTES} bytes. "
                f"You have sent {total} bytes.",
            )
        if not accepted:
            return {"Successful": [], "Failed": failed}
        stored = await self._store(queue, [prepared.record for prepared in accepted])
        fifo = rules.fifo
        successful = [
            _send_result(prepared, message_id, sequence, fifo, {"Id": entry_id})
            for entry_id, prepared, (message_id, sequence) in zip(ids, accepted, stored, strict=True)
        ]
        return {"Successful": successful, "Failed": failed}

    async def _store(self, queue: QueueRecord, records: list[MessageRecord]) -> list[tuple[str, int]]:
        try:
            stored = await self._sends.send(_queue_id(queue), records)
        except QueueMissing:
            self._queues.forget(queue)
            raise no_queue() from None
        if any(record.receipt is None for record in records):  # not all handed to waiting receivers
            self._waiters.notify(_queue_id(queue))
        return stored

    async def _send(self, queue_id: int, records: list[MessageRecord]) -> list[tuple[str, int]]:
        """Store one coalesced write, first handing its fresh messages to armed long polls."""
        taken = self._waiters.hand_out(queue_id, records, self._clock.now())
        if not taken:
            return await self._repo.send(queue_id, records, limits.DEDUP_WINDOW_SECONDS)
        try:
            stored = await self._repo.send(queue_id, records, limits.DEDUP_WINDOW_SECONDS)
        except BaseException:
            self._waiters.settle(queue_id, taken, stored=False)
            raise
        for record, (_message_id, sequence) in zip(records, stored, strict=True):
            record.sequence = sequence
        self._waiters.settle(queue_id, taken, stored=True)
        return stored

    def _release(self, queue_id: int, records: list[MessageRecord]) -> None:
        """Make messages handed to a receiver that went away visible again (in the background)."""
        task = asyncio.get_running_loop().create_task(self._give_back(queue_id, records))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _give_back(self, queue_id: int, records: list[MessageRecord]) -> None:
        now = self._clock.now()
        try:
            await self._repo.change_visibilities(
                queue_id, [(_sequence(record), record.receipt or "", now) for record in records]
            )
        except Exception as exc:  # they become visible when their visibility timeout ends
            log.warning("SQS: could not give back messages handed to a receiver that went away: %r", exc)
        self._waiters.notify(queue_id)

    async def deliver(
        self, queue_arn: str, messages: list[OutgoingMessage], *, source: DeliverySource | None = None
    ) -> list[str]:
        """:class:`~kumoi.core.delivery.QueueDelivery`: send on behalf of another service (the
        composition root checks the queue policy against ``source`` before this is called)."""
        queue = await self._queues.by_arn(queue_arn)
        if queue is None:
            raise no_queue()
        rules = QueueRules.of(queue)
        now = self._clock.now()
        records = [prepare(_entry(message), rules, now, queue.account_id).record for message in messages]
        if not records:
            return []
        return [message_id for message_id, _sequence in await self._store(queue, records)]

    # --- receiving ------------------------------------------------------------------------------

    async def receive_message(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        attrs = queue.attributes
        limit = _int_param(request, "MaxNumberOfMessages", 1, limits.MAX_RECEIVE, 1)
        visibility = _int_param(
            request,
            "VisibilityTimeout",
            0,
            limits.MAX_VISIBILITY_TIMEOUT,
            int(attrs.get("VisibilityTimeout", "30")),
        )
        wait = _int_param(
            request,
            "WaitTimeSeconds",
            0,
            limits.MAX_WAIT_SECONDS,
            int(attrs.get("ReceiveMessageWaitTimeSeconds", "0")),
        )
        system_names = set(request.get("MessageSystemAttributeNames") or []) | set(
            request.get("AttributeNames") or []
        )
        for name in system_names:
            if name not in SYSTEM_NAMES and name not in queue_attributes.ALL_NAMES:
                raise queue_attributes.unknown_attribute(name)
        attribute_names = list(request.get("MessageAttributeNames") or [])
        queue_id = _queue_id(queue)
        redrive = await self._redrive(queue, ctx.region)
        retention = int(
            attrs.get("MessageRetentionPeriod", queue_attributes.STANDARD_DEFAULTS["MessageRetentionPeriod"])
        )
        fifo = _is_fifo(queue)
        attempt = None
        attempt_id = request.get("ReceiveRequestAttemptId")
        if fifo and attempt_id is not None:  # standard queues ignore it, as SQS does
            check_attempt_id(attempt_id)
            attempt = ReceiveAttempt(attempt_id, self._clock.now() + limits.RECEIVE_ATTEMPT_WINDOW_SECONDS)
        deadline = self._clock.now() + wait
        while True:
            waiter = self._waiters.watch(queue_id) if wait else None
            try:
                now = self._clock.now()
                claimed = await self._repo.receive(
                    queue_id,
                    now,
                    limit,
                    visibility,
                    fifo,
                    sent_after=now - retention,
                    redrive=redrive,
                    attempt=attempt,
                )
                if redrive is not None:
                    self._waiters.notify(redrive.dead_letter_queue_id)
                if claimed or self._clock.now() >= deadline or waiter is None:
                    break
                # Asked as of the moment the receive looked: a message that became visible while
                # it ran (a slow commit) is then due at once, instead of missed until the deadline.
                next_visible = await self._repo.next_visible_at(queue_id, now)
            except BaseException:
                if waiter is not None:
                    self._waiters.withdraw(queue_id, waiter)
                raise
            until = deadline if next_visible is None else min(deadline, next_visible)
            if not fifo:
                self._waiters.arm(waiter, limit, visibility)
            pause = max(until - self._clock.now(), MIN_POLL_SLEEP)
            handed = await self._waiters.wait(queue_id, waiter, pause)
            if handed:
                claimed = handed
                break
        if waiter is not None:
            self._waiters.withdraw(queue_id, waiter)
        messages = [
            message_output(m, receipt_handle(_sequence(m), m.receipt or ""), system_names, attribute_names)
            for m in claimed
        ]
        return {"Messages": messages} if messages else {}

    async def _redrive(self, queue: QueueRecord, region: str) -> Redrive | None:
        policy = queue_attributes.redrive_of(queue.attributes)
        if policy is None:
            return None
        target = await self._queues.by_arn(policy.dead_letter_arn)
        if target is None:
            return None
        return Redrive(
            _queue_id(target), policy.max_receive_count, queue_arn(region, queue.account_id, queue.name)
        )

    async def delete_message(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        sequence, token = parse_receipt(request["ReceiptHandle"])
        # A stale handle (the message was received again since) deletes nothing, and succeeds.
        if await self._repo.delete_message(_queue_id(queue), sequence, token) and _is_fifo(queue):
            self._waiters.notify(_queue_id(queue))
        return {}

    async def delete_message_batch(self, ctx: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        entries = request["Entries"]
        check_batch(entries, "DeleteMessageBatchRequestEntry")
        failed: list[dict[str, Any]] = []
        valid: list[tuple[str, tuple[int, str]]] = []
        for entry in entries:
            try:
                valid.append((entry["Id"], parse_receipt(entry["ReceiptHandle"])))
            except ServiceError as error:
                failed.append(failure(entry["Id"], error))
        if valid:
            deleted = await self._repo.delete_messages(_queue_id(queue), [receipt for _id, receipt in valid])
            if any(deleted) and _is_fifo(queue):
                self._waiters.notify(_queue_id(queue))
        return {"Successful": [{"Id": entry_id} for entry_id, _receipt in valid], "Failed": failed}

    async def change_message_visibility(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        handle = request["ReceiptHandle"]
        sequence, token = parse_receipt(handle)
        timeout = _int_param(request, "VisibilityTimeout", 0, limits.MAX_VISIBILITY_TIMEOUT, 0)
        outcome = await self._repo.change_visibility(
            _queue_id(queue), sequence, token, self._clock.now() + timeout
        )
        _raise_for_visibility(outcome, handle)
        self._waiters.notify(_queue_id(queue))
        return {}

    async def change_message_visibility_batch(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        entries = request["Entries"]
        check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
        now = self._clock.now()
        failed: list[dict[str, Any]] = []
        valid: list[tuple[dict[str, Any], tuple[int, str, float]]] = []
        for entry in entries:
            try:
                sequence, token = parse_receipt(entry["ReceiptHandle"])
                timeout = _int_param(entry, "VisibilityTimeout", 0, limits.MAX_VISIBILITY_TIMEOUT, 0)
                valid.append((entry, (sequence, token, now + timeout)))
            except ServiceError as error:
                failed.append(failure(entry["Id"], error))
        successful: list[dict[str, Any]] = []
        if valid:
            outcomes = await self._repo.change_visibilities(
                _queue_id(queue), [change for _e, change in valid]
            )
            for (entry, _change), outcome in zip(valid, outcomes, strict=True):
                try:
                    _raise_for_visibility(outcome, entry["ReceiptHandle"])
                    successful.append({"Id": entry["Id"]})
                except ServiceError as error:
                    failed.append(failure(entry["Id"], error))
            self._waiters.notify(_queue_id(queue))
        return {"Successful": successful, "Failed": failed}

    # --- dead-letter queues ---------------------------------------------------------------------

    async def list_dead_letter_source_queues(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queues.by_url(request["QueueUrl"])
        limit = _int_param(request, "MaxResults", 1, limits.MAX_LIST_QUEUES, limits.MAX_LIST_QUEUES)
        after = _decode_token(request["NextToken"]) if request.get("NextToken") else ""
        sources = await self._sources_of(queue, ctx.region, after, limit + 1)
        output: dict[str, Any] = {
            "queueUrls": [
                queue_url(ctx.base_url, source.account_id, source.name) for source in sources[:limit]
            ]
        }
        if len(sources) > limit and "MaxResults" in request:
            output["NextToken"] = _encode_token(sources[limit - 1].name)
        return output

    async def _sources_of(self, queue: QueueRecord, region: str, after: str, limit: int) -> list[QueueRecord]:
        """The account's queues whose redrive policy targets ``queue``, by name after ``after``."""
        target = queue_arn(region, queue.account_id, queue.name)
        found: list[QueueRecord] = []
        while len(found) < limit:
            page = await self._repo.list_queues(queue.account_id, "", after, limits.MAX_LIST_QUEUES)
            for candidate in page:
                policy = queue_attributes.redrive_of(candidate.attributes)
                if policy is not None and _same_queue(policy.dead_letter_arn, target):
                    found.append(candidate)
            if len(page) < limits.MAX_LIST_QUEUES:
                break
            after = page[-1].name
        return found[:limit]

    async def start_message_move_task(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        source_arn = request["SourceArn"]
        source = await self._queues.by_arn(source_arn)
        if source is None:
            raise _missing_resource("SourceArn")
        destination_arn = request.get("DestinationArn")
        if destination_arn is not None and await self._queues.by_arn(destination_arn) is None:
            raise _missing_resource("DestinationArn")
        rate = request.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and not 1 <= rate <= limits.MAX_MOVE_RATE:
            raise invalid_parameter(
                "MaxNumberOfMessagesPerSecond",
                rate,
                f"Must be between 1 and {limits.MAX_MOVE_RATE}, if provided.",
            )
        if not await self._sources_of(source, ctx.region, "", 1):
            raise ServiceError(
                "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."
            )
        visible, _in_flight, _delayed = await self._repo.count_messages(_queue_id(source), self._clock.now())
        if self._moves.running(source_arn):
            raise ServiceError(
                "InvalidParameterValue",
                "There is already a task running. Only one active task is allowed for a source queue arn "
                "at a given time.",
            )
        task = await self._moves.start(
            source_arn, _queue_id(source), destination_arn, rate, visible, self._destination(destination_arn)
        )
        return {"TaskHandle": task.handle}

    def _destination(self, destination_arn: str | None) -> Destination:
        """Where a move task sends a message: the given queue, else the queue it came from."""

        async def destination_of(message: MessageRecord) -> int | None:
            arn = destination_arn or str(message.attrs.get("DeadLetterQueueSourceArn", ""))
            target = await self._queues.by_arn(arn)
            return None if target is None else target.queue_id

        return destination_of

    async def list_message_move_tasks(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        source_arn = request["SourceArn"]
        if await self._queues.by_arn(source_arn) is None:
            raise _missing_resource("SourceArn")
        limit = _int_param(request, "MaxResults", 1, limits.MAX_MOVE_TASKS_LISTED, 1)
        return {"Results": [describe(task) for task in await self._moves.listed(source_arn, limit)]}

    async def cancel_message_move_task(
        self, ctx: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        handle = request["TaskHandle"]
        try:
            task = await self._moves.cancel(handle)
        except ServiceError:
            raise task_not_found() from None
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    # --- background -----------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Delete messages past their queue's retention period and expired deduplication entries."""
        await self._repo.expire(self._clock.now(), RETENTION_SWEEP_BATCH)


def _same_queue(arn: str, other: str) -> bool:
    """Two queue ARNs name the same queue (account and name; the region is the server's)."""
    first, second = parse_queue_arn(arn), parse_queue_arn(other)
    return first is not None and second is not None and first[1:] == second[1:]


def _missing_resource(parameter: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
        status=404,
    )


def _raise_for_visibility(outcome: VisibilityChange, handle: str) -> None:
    if outcome is VisibilityChange.NOT_IN_FLIGHT:
        raise ServiceError("MessageNotInflight", "The message referred to isn't in flight.")
    if outcome is VisibilityChange.NOT_FOUND:
        raise invalid_parameter(
            "ReceiptHandle",
            handle,
            "Message does not exist or is not available for visibility timeout change.",
        )


def _send_result(
    prepared: Prepared, message_id: str, sequence: int, fifo: bool, output: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A sent message's response fields, added to ``output`` (a batch entry's ``Id``) if given."""
    if output is None:
        output = {}
    output["MessageId"] = message_id
    output["MD5OfMessageBody"] = prepared.body_md5
    if prepared.attributes_md5 is not None:
        output["MD5OfMessageAttributes"] = prepared.attributes_md5
    if prepared.system_md5 is not None:
        output["MD5OfMessageSystemAttributes"] = prepared.system_md5
    if fifo:
        output["SequenceNumber"] = sequence_number(sequence)
    return output


def _without_empty(attributes: dict[str, str]) -> dict[str, str]:
    """Setting a policy or key attribute to "" removes it."""
    return {k: v for k, v in attributes.items() if v != "" or k not in _REMOVABLE}


_REMOVABLE = frozenset({"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"})


def _check_tags(tags: Mapping[str, str], queue_name: str) -> None:
    if len(tags) > limits.MAX_TAGS:
        raise ServiceError("InvalidParameterValue", f"Too many tags added for queue {queue_name}.")
    for key, value in tags.items():
        if not 1 <= len(key) <= limits.MAX_TAG_KEY_LENGTH or len(value) > limits.MAX_TAG_VALUE_LENGTH:
            raise ServiceError(
                "InvalidParameterValue",
                f"Tag keys must be 1 to {limits.MAX_TAG_KEY_LENGTH} characters and values at most "
                f"{limits.MAX_TAG_VALUE_LENGTH} characters.",
            )
        if key.lower().startswith("aws:"):
            raise ServiceError(
                "InvalidParameterValue", "Tag keys may not start with the reserved prefix aws:."
            )


def _entry(message: OutgoingMessage) -> dict[str, Any]:
    """A delivery's message as a SendMessage entry."""
    entry: dict[str, Any] = {"MessageBody": message.body}
    if message.attributes:
        entry["MessageAttributes"] = {
            name: {"DataType": value.data_type, "BinaryValue": value.binary_value}
            if value.binary_value is not None
            else {"DataType": value.data_type, "StringValue": value.string_value or ""}
            for name, value in message.attributes.items()
        }
    if message.delay_seconds is not None:
        entry["DelaySeconds"] = message.delay_seconds
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id is not None:
        entry["MessageDeduplicationId"] = message.deduplication_id
    return entry
