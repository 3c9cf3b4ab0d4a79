"""The delivery outbox drainer: acknowledged publishes reach their subscribers, even after a crash.

A publish to a standard topic hands its SQS deliveries to :meth:`Outbox.deliver_now`: the queues
store them before the publish is answered (concurrent publishes share delivery calls, see
:mod:`~kumoi.services.sns.batching`), which is as durable as an outbox row and costs no row to
write, read and delete. Every other delivery (HTTP/HTTPS, a FIFO topic's, one a queue refused)
is stored as one outbox row per (message, subscription) in the transaction that acknowledges the
publish (:meth:`SnsRepository.publish`) and handed to :meth:`Outbox.submit`. The drainer
(:meth:`Outbox.run`, a long-lived background task) first reloads every row a previous run left
behind, then delivers in rounds:

- **SQS** rows are grouped by queue and delivered with one :meth:`QueueDelivery.deliver` call per
  queue, in publish order (so FIFO groups keep their order); a row is deleted once its queue
  acknowledged it, so a message reaches each queue once unless kumoi dies between the two
  writes (then it is delivered again on restart: at-least-once across crashes).
- **HTTP/HTTPS** rows each get a task that POSTs and retries along the subscription's delivery
  policy, behind the per-endpoint circuit breaker. After each failed attempt the row's progress
  (attempts made, when the next is due) is stored, so a restart continues the schedule where it
  was: no attempt count is reset, and a row whose retries run out still reaches the dead-letter
  queue.

A row that fails for good (its queue is gone, or its retries ran out) goes to the subscription's
dead-letter queue when it has one, and is dropped (and logged) otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Iterable
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.delivery import DeliverySource, OutgoingAttribute, OutgoingMessage, QueueDelivery
from kumoi.core.errors import ServiceError
from kumoi.services.sns import http_client
from kumoi.services.sns.batching import QueueBatcher
from kumoi.services.sns.routes import source
from kumoi.storage.meta.contract_sns import OutboxRow, SnsRepository

log = logging.getLogger("kumoi.sns")

SQS = "sqs"
HTTP = "http"
#: Rows read from the store per page when recovering after a restart.
RECOVERY_PAGE = 1000
#: Most HTTP POSTs in flight at once, over all endpoints, and to any one endpoint.
MAX_HTTP_IN_FLIGHT = 64
MAX_IN_FLIGHT_PER_ENDPOINT = 16
#: Pause after an unexpected failure of a round before trying its rows again.
ROUND_FAILURE_PAUSE_SECONDS = 1.0


def outgoing(payload: dict[str, Any]) -> OutgoingMessage:
    """The SQS message an SQS outbox payload describes."""
    attributes = {
        name: OutgoingAttribute(
            value["DataType"],
            string_value=value.get("StringValue"),
            binary_value=base64.b64decode(value["BinaryValue"]) if "BinaryValue" in value else None,
        )
        for name, value in payload.get("attributes", {}).items()
    }
    return OutgoingMessage(
        payload["body"], attributes, group_id=payload.get("group"), deduplication_id=payload.get("dedup")
    )


def topic_of(subscription_arn: str) -> str:
    """A subscription's topic: its ARN without the subscription id."""
    return subscription_arn.rsplit(":", 1)[0]


class Outbox:
    def __init__(
        self,
        repo: SnsRepository,
        queues: QueueDelivery,
        is_live: Callable[[str], bool],
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._queues = queues
        self._is_live = is_live
        self._clock = clock
        self._batcher = QueueBatcher(queues)
        self._ready: list[OutboxRow] = []
        self._known: set[int] = set()
        self._wake = asyncio.Event()
        self._breaker = http_client.CircuitBreaker()
        self._http_slots = asyncio.Semaphore(MAX_HTTP_IN_FLIGHT)
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, rows: Iterable[OutboxRow]) -> None:
        """Deliver these stored rows soon (the drainer is woken only when there are any)."""
        for row in rows:
            if row.row_id not in self._known:
                self._known.add(row.row_id)
                self._ready.append(row)
        if self._ready:
            self._wake.set()

    async def run(self) -> None:
        """Recover what a previous run left, then deliver forever (until cancelled)."""
        await self._recover()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                rows, self._ready = self._ready, []
                rows.sort(key=lambda row: row.row_id)
                try:
                    await self._round(rows)
                except Exception:
                    log.exception("SNS delivery round failed; retrying its %d messages", len(rows))
                    self._ready[:0] = rows
                    await asyncio.sleep(ROUND_FAILURE_PAUSE_SECONDS)
                    self._wake.set()
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _recover(self) -> None:
        after = 0
        while True:
            page = await self._repo.pending(after, RECOVERY_PAGE)
            if not page:
                break
            after = page[-1].row_id
            self.submit(page)
        if self._known:
            log.info("SNS outbox: %d undelivered messages recovered", len(self._known))

    async def _round(self, rows: list[OutboxRow]) -> None:
        by_queue: dict[tuple[str, str], list[OutboxRow]] = {}
        finished: list[int] = []
        for row in rows:
            payload = row.payload
            if not payload.get("force") and not self._is_live(row.subscription_arn):
                finished.append(row.row_id)
            elif payload["kind"] == SQS:
                by_queue.setdefault((payload["queue"], topic_of(row.subscription_arn)), []).append(row)
            else:
                self._spawn(self._deliver_http(row))
        results = await asyncio.gather(
            *(self._deliver_sqs(queue, batch, source(topic)) for (queue, topic), batch in by_queue.items())
        )
        for done in results:
            finished.extend(done)
        self._finish(finished)

    async def _deliver_sqs(self, queue: str, rows: list[OutboxRow], sender: DeliverySource) -> list[int]:
        try:
            await self._queues.deliver(queue, [outgoing(row.payload) for row in rows], source=sender)
        except ServiceError as error:
            if len(rows) == 1:
                await self._dead_letter(rows[0], f"queue {queue} refused it: {error.code}")
            else:
                for row in rows:
                    await self._deliver_sqs(queue, [row], sender)
            return [row.row_id for row in rows]
        return [row.row_id for row in rows]

    def deliver_now(
        self, sender: DeliverySource, queue: str, messages: list[OutgoingMessage]
    ) -> asyncio.Future[None]:
        """Store ``messages`` (a standard topic's, not in the outbox) in ``queue`` at once: the
        future resolves once they are stored, or fails with the ``ServiceError`` the queue
        refused them with (the caller then stores them in the outbox, which retries them and
        dead-letters them as usual)."""
        return self._batcher.submit(queue, sender, messages)

    async def _deliver_http(self, row: OutboxRow) -> None:
        payload = row.payload
        url = payload["url"]
        endpoint = http_client.endpoint_key(url)
        body = payload["body"].encode("utf-8")
        headers = [(str(name), str(value)) for name, value in payload["headers"]]
        schedule = [0.0, *payload.get("delays", ())]
        while row.attempts < len(schedule):
            wait = row.next_at - self._clock.now()
            if wait > 0:
                await asyncio.sleep(wait)
            if not payload.get("force") and not self._is_live(row.subscription_arn):
                break
            if self._breaker.allows(endpoint):
                ok = await self._post(endpoint, url, body, headers)
                self._breaker.record(endpoint, ok)
                if ok:
                    break
            row.attempts += 1
            if row.attempts < len(schedule):
                row.next_at = self._clock.now() + schedule[row.attempts]
                await self._reschedule(row)
        else:
            await self._dead_letter(row, f"{url} did not accept it after {len(schedule)} attempts")
        self._finish([row.row_id])

    async def _reschedule(self, row: OutboxRow) -> None:
        try:
            await self._repo.reschedule(row.row_id, row.attempts, row.next_at)
        except Exception:  # the schedule goes on; a restart would repeat an attempt or two
            log.exception("SNS outbox: could not record the retry progress of a message")

    async def _post(self, endpoint: str, url: str, body: bytes, headers: list[tuple[str, str]]) -> bool:
        slots = self._endpoint_slots.get(endpoint)
        if slots is None:
            slots = self._endpoint_slots[endpoint] = asyncio.Semaphore(MAX_IN_FLIGHT_PER_ENDPOINT)
        async with slots, self._http_slots:
            try:
                status = await http_client.post(url, body, headers)
            except (OSError, ValueError, TimeoutError) as exc:
                log.info("SNS delivery to %s failed: %s", url, exc)
                return False
        if not 200 <= status < 300:
            log.info("SNS delivery to %s answered %d", url, status)
        return 200 <= status < 300

    async def _dead_letter(self, row: OutboxRow, reason: str) -> None:
        target = row.payload.get("dlq")
        if not target:
            log.warning("SNS message for %s dropped: %s", row.subscription_arn, reason)
            return
        message = outgoing(row.payload)
        try:
            await self._queues.deliver(target, [message], source=source(topic_of(row.subscription_arn)))
        except ServiceError as error:
            log.warning(
                "SNS message for %s dropped: %s; dead-letter queue: %s", row.subscription_arn, reason, error
            )

    def _finish(self, row_ids: list[int]) -> None:
        if row_ids:
            self._spawn(self._forget(row_ids))

    async def _forget(self, row_ids: list[int]) -> None:
        try:
            await self._repo.finish(row_ids)
        except Exception:  # the rows stay stored: delivered again after a restart (at-least-once)
            log.exception("SNS outbox: could not forget %d delivered messages", len(row_ids))
        self._known.difference_update(row_ids)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
