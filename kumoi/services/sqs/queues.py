"""Finding queues by URL, ARN or name, with an in-process cache of their records.

Every request names a queue, so looking it up must not cost a trip to a reader thread. All
changes to queues go through this process's provider, which updates the cache as it writes, so
the cache is exact for a single node (a message sent to a queue deleted meanwhile is still caught
by the store: ``QueueMissing``).
"""

from __future__ import annotations

from kumoi.core.errors import ServiceError
from kumoi.services.sqs.urls import parse_queue_arn, parse_queue_url
from kumoi.storage.meta.contract import QueueRecord, SqsRepository


def no_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


#: Parsed queue URLs remembered (a URL's parse never changes; the set is cleared when full).
URL_CACHE_SIZE = 4096


class QueueDirectory:
    def __init__(self, repository: SqsRepository) -> None:
        self._repository = repository
        self._cache: dict[tuple[str, str], QueueRecord] = {}
        self._urls: dict[str, tuple[str, str]] = {}

    async def find(self, account_id: str, name: str) -> QueueRecord | None:
        key = (account_id, name)
        queue = self._cache.get(key)
        if queue is None:
            queue = await self._repository.get_queue(account_id, name)
            if queue is not None:
                self._cache[key] = queue
        return queue

    async def by_url(self, url: str) -> QueueRecord:
        key = self._urls.get(url)
        if key is None:
            key = parse_queue_url(url)
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[url] = key
        queue = self._cache.get(key)
        if queue is not None:
            return queue
        queue = await self.find(*key)
        if queue is None:
            raise no_queue()
        return queue

    async def by_arn(self, arn: str) -> QueueRecord | None:
        parsed = parse_queue_arn(arn)
        if parsed is None:
            return None
        return await self.find(parsed[1], parsed[2])

    def remember(self, queue: QueueRecord) -> None:
        self._cache[(queue.account_id, queue.name)] = queue

    def forget(self, queue: QueueRecord) -> None:
        self._cache.pop((queue.account_id, queue.name), None)
