"""The delivery outbox drainer: acknowledged publishes reach their subscribers, even after a crash.

Publish stores one outbox row per (message, subscription) in the transaction that acknowledges
it (:meth:`SnsRepository.publish`) and hands the rows to :meth:`Outbox.submit`. The drainer
(:meth:`Outbox.run`, a long-lived background task) first reloads every row a previous run left
behind, then delivers in rounds:

- **SQS** rows are grouped by queue and delivered with one :meth:`QueueDelivery.deliver` call per
  queue, in publish order (so FIFO groups keep their order); a row is deleted once its queue
  acknowledged it, so a message reaches each queue once unless kumoi dies between the two
  writes (then it is delivered again on restart: at-least-once across crashes).
- **HTTP/HTTPS** rows each get a task that POSTs and retries along the subscription's delivery
  policy, behind the per-endpoint circuit breaker.

A row that fails for good (its queue is gone, or its retries ran out) goes to the subscription's
dead-letter queue when it has one, and is dropped (and logged) otherwise. Retry progress of HTTP
rows is kept in memory: after a restart their schedule starts over.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Iterable
from typing import Any

from kumoi.core.delivery import OutgoingAttribute, OutgoingMessage, QueueDelivery
from kumoi.core.errors import ServiceError
from kumoi.services.sns import http_client
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


class Outbox:
    def __init__(
        self,
        repo: SnsRepository,
        queues: QueueDelivery,
        is_live: Callable[[str], bool],
    ) -> None:
        self._repo = repo
        self._queues = queues
        self._is_live = is_live
        self._ready: list[OutboxRow] = []
        self._known: set[int] = set()
        self._wake = asyncio.Event()
        self._breaker = http_client.CircuitBreaker()
        self._http_slots = asyncio.Semaphore(MAX_HTTP_IN_FLIGHT)
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, rows: Iterable[OutboxRow]) -> None:
        """Deliver these stored rows soon."""
        for row in rows:
            if row.row_id not in self._known:
                self._known.add(row.row_id)
                self._ready.append(row)
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
        by_queue: dict[str, list[OutboxRow]] = {}
        finished: list[int] = []
        for row in rows:
            payload = row.payload
            if not payload.get("force") and not self._is_live(row.subscription_arn):
                finished.append(row.row_id)
            elif payload["kind"] == SQS:
                by_queue.setdefault(payload["queue"], []).append(row)
            else:
                self._spawn(self._deliver_http(row))
        results = await asyncio.gather(
            *(self._deliver_sqs(queue, batch) for queue, batch in by_queue.items())
        )
        for done in results:
            finished.extend(done)
        self._finish(finished)

    async def _deliver_sqs(self, queue: str, rows: list[OutboxRow]) -> list[int]:
        try:
            await self._queues.deliver(queue, [outgoing(row.payload) for row in rows])
        except ServiceError:
            if len(rows) == 1:
                await self._dead_letter(rows[0], f"queue {queue} refused it")
            else:
                for row in rows:
                    await self._deliver_sqs(queue, [row])
            return [row.row_id for row in rows]
        return [row.row_id for row in rows]

    async def _deliver_http(self, row: OutboxRow) -> None:
        payload = row.payload
        url = payload["url"]
        endpoint = http_client.endpoint_key(url)
        body = payload["body"].encode("utf-8")
        headers = [(str(name), str(value)) for name, value in payload["headers"]]
        for delay in [0.0, *payload.get("delays", ())]:
            if delay:
                await asyncio.sleep(delay)
            if not payload.get("force") and not self._is_live(row.subscription_arn):
                break
            if not self._breaker.allows(endpoint):
                continue
            ok = await self._post(endpoint, url, body, headers)
            self._breaker.record(endpoint, ok)
            if ok:
                break
        else:
            await self._dead_letter(
                row, f"{url} did not accept it after {len(payload.get('delays', ())) + 1} attempts"
            )
        self._finish([row.row_id])

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
            await self._queues.deliver(target, [message])
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
