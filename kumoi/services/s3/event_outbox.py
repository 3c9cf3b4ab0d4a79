"""Durable S3 event notifications: the outbox writer and its drainer.

A write that changes an object asks :meth:`EventOutbox.prepare` for the outbox rows of its events
(none, at no cost, when the bucket has no notification configuration) and hands them to the store
call that makes the change: they are written to the ``s3_event_outbox`` table in the same
transaction, so a change is committed if and only if its events are, whenever kumoi is killed.
Once the store call returns, :meth:`EventOutbox.submit` passes the stored rows to the drainer. The
rows are prepared right before the store call is queued (no ``await`` in between), so their
``sequencer`` values grow in commit order. The drainer
(:meth:`EventOutbox.run`, a long-lived background task) reloads what a previous run left, then
delivers in rounds: rows grouped by destination, in row order, through
:class:`~kumoi.core.delivery.QueueDelivery` (batches) or
:class:`~kumoi.core.delivery.TopicDelivery` (one publish each). A row is deleted once its
destination has stored it: delivery is at least once across crashes, exactly once otherwise.
A destination that rejects a row for good (deleted queue or topic) drops it, with a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.delivery import DeliverySource, OutgoingMessage, QueueDelivery, TopicDelivery
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import event_message, notification_config
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.storage.meta.contract import BucketRecord, S3EventRow, S3Repository

log = logging.getLogger("kumoi.s3.events")

#: Rows read from the store per page when recovering after a restart.
RECOVERY_PAGE = 1000
#: Messages per QueueDelivery call (SendMessageBatch's limit).
QUEUE_BATCH = 10
#: Who delivers, as queue and topic policies name it.
SERVICE_PRINCIPAL = "s3.amazonaws.com"
#: Pause after an unexpected failure of a round before trying its rows again.
ROUND_FAILURE_PAUSE_SECONDS = 1.0
#: Width of a sequencer in hex digits (nanoseconds since the epoch fit in 16).
SEQUENCER_DIGITS = 18


class EventOutbox:
    def __init__(
        self,
        repo: S3Repository,
        clock: Clock,
        queues: QueueDelivery | None = None,
        topics: TopicDelivery | None = None,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._queues = queues
        self._topics = topics
        self._ready: list[S3EventRow] = []
        self._known: set[int] = set()
        self._wake = asyncio.Event()
        self._last_sequencer = 0

    def prepare(
        self, ctx: RequestContext, bucket: BucketRecord, event: str, facts: ObjectFacts
    ) -> list[S3EventRow]:
        """The outbox rows of ``event`` on one object under ``bucket``'s configuration, to store
        with the change (an empty list when nothing is configured for it)."""
        config = bucket.config.get(notification_config.CONFIG_KEY)
        if not config:
            return []
        matched = notification_config.targets(config, event, facts.key)
        if not matched:
            return []
        now = self._clock.now()
        sequencer = self._next_sequencer(now)
        return [
            S3EventRow(
                target.arn,
                event_message.body(
                    event_message.record(ctx, bucket, event, target.configuration_id, facts, now, sequencer)
                ),
                ctx.base_url,
            )
            for target in matched
        ]

    def prepare_each(
        self, ctx: RequestContext, bucket: BucketRecord, event: str, keys: Iterable[str]
    ) -> dict[str, list[S3EventRow]]:
        """:meth:`prepare` for several keys (a multi-object delete stores those that existed)."""
        if not bucket.config.get(notification_config.CONFIG_KEY):
            return {}
        prepared = {key: self.prepare(ctx, bucket, event, ObjectFacts(key)) for key in keys}
        return {key: rows for key, rows in prepared.items() if rows}

    def submit(self, rows: Iterable[S3EventRow]) -> None:
        """Deliver soon the rows a store call has just committed (those it gave a row id)."""
        stored = [row for row in rows if row.row_id]
        if stored:
            self._submit(stored)

    async def probe(
        self, ctx: RequestContext, bucket: str, config: dict[str, object], owner: str = ""
    ) -> list[str]:
        """Send the ``s3:TestEvent`` to each queue and topic of ``config`` now; return the ARNs
        that could not take it (missing, not a destination S3 can use, or whose policy does not
        let S3 send for the bucket of account ``owner``)."""
        message = event_message.probe_message(ctx, bucket, self._clock.now())
        sender = DeliverySource(SERVICE_PRINCIPAL, f"arn:aws:s3:::{bucket}", owner or ctx.account_id)
        failed: list[str] = []
        for kind, arn in notification_config.destinations(config):
            try:
                await self._send(kind, arn, [message], ctx.base_url, sender)
            except ServiceError:
                failed.append(arn)
        return failed

    async def run(self) -> None:
        """Recover what a previous run left, then deliver forever (until cancelled)."""
        await self._recover()
        while True:
            await self._wake.wait()
            self._wake.clear()
            rows, self._ready = self._ready, []
            try:
                await self._round(rows)
            except Exception:
                log.exception("S3 event delivery round failed; retrying its %d events", len(rows))
                self._ready[:0] = [row for row in rows if row.row_id in self._known]
                await asyncio.sleep(ROUND_FAILURE_PAUSE_SECONDS)
                self._wake.set()

    def _submit(self, rows: Iterable[S3EventRow]) -> None:
        for row in rows:
            if row.row_id not in self._known:
                self._known.add(row.row_id)
                self._ready.append(row)
        self._wake.set()

    def _next_sequencer(self, now: float) -> str:
        """A hex string that grows with every event (so also per key), across restarts too."""
        self._last_sequencer = max(self._last_sequencer + 1, int(now * 1e9))
        return f"{self._last_sequencer:0{SEQUENCER_DIGITS}X}"

    async def _recover(self) -> None:
        after = 0
        while page := await self._repo.pending_events(after, RECOVERY_PAGE):
            after = page[-1].row_id
            self._submit(page)
        if self._known:
            log.info("S3 event outbox: %d undelivered events recovered", len(self._known))

    async def _round(self, rows: list[S3EventRow]) -> None:
        by_destination: dict[tuple[str, DeliverySource], list[S3EventRow]] = {}
        for row in sorted(rows, key=lambda row: row.row_id):
            by_destination.setdefault((row.destination, _source_of(row.body)), []).append(row)
        for (arn, sender), pending in by_destination.items():
            kind = notification_config.TOPIC if ":sns:" in arn else notification_config.QUEUE
            for start in range(0, len(pending), QUEUE_BATCH):
                batch = pending[start : start + QUEUE_BATCH]
                try:
                    await self._send(kind, arn, [row.body for row in batch], batch[0].base_url, sender)
                except ServiceError as error:
                    log.warning("S3 events to %s dropped (%d): %s", arn, len(batch), error.message)
                finished = [row.row_id for row in batch]
                await self._repo.finish_events(finished)
                self._known.difference_update(finished)

    async def _send(
        self, kind: str, arn: str, bodies: list[str], base_url: str, sender: DeliverySource
    ) -> None:
        if kind == notification_config.TOPIC:
            if self._topics is None:
                raise ServiceError("NotFound", "Topic does not exist")
            for text in bodies:
                await self._topics.publish_to_topic(
                    arn, text, event_message.SNS_SUBJECT, base_url, source=sender
                )
            return
        if self._queues is None:
            raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
        await self._queues.deliver(arn, [OutgoingMessage(text) for text in bodies], source=sender)


def _source_of(body: str) -> DeliverySource:
    """S3 delivering for the bucket an event record names (its ARN and owner account)."""
    try:
        bucket = json.loads(body)["Records"][0]["s3"]["bucket"]
        return DeliverySource(
            SERVICE_PRINCIPAL, str(bucket["arn"]), str(bucket["ownerIdentity"]["principalId"])
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return DeliverySource(SERVICE_PRINCIPAL, "", "")
