"""The SQS provider: durable queues and messages in the metadata store.

Every message is written to the metadata store (group-committed) before SendMessage answers, and a
receive claims messages atomically there, so a message is never delivered to two receivers within
one visibility window and an acknowledged message survives a crash.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.sqs.digests import attributes_md5, md5_hex
from kumoi.services.sqs.urls import parse_queue_url, queue_arn, queue_url
from kumoi.services.sqs.waiters import QueueWaiters
from kumoi.storage.meta.contract import MessageRecord, MetadataStore, QueueMissing, QueueRecord

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_RECEIVE = 10
MAX_WAIT_SECONDS = 20
MAX_VISIBILITY_TIMEOUT = 12 * 3600
MAX_DELAY_SECONDS = 900
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
# Characters SQS accepts in a message: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF
_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
DEFAULT_ATTRIBUTES = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}


def _int_param(request: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = request.get(name, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise ServiceError(
            "InvalidParameterValue",
            f"Value {value} for parameter {name} is invalid. Reason: "
            f"Must be between {low} and {high}, if provided.",
        )
    return value


def _receipt_handle(message_id: str, token: str) -> str:
    return base64.urlsafe_b64encode(f"{message_id}:{token}".encode()).decode()


def _parse_receipt(handle: str) -> tuple[str, str]:
    try:
        message_id, token = base64.urlsafe_b64decode(handle.encode()).decode().split(":", 1)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ServiceError(
            "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from None
    return message_id, token


class SqsProvider:
    def __init__(self, meta: MetadataStore, clock: Clock) -> None:
        self._meta = meta
        self._clock = clock
        self._waiters = QueueWaiters()

    async def create_queue(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["QueueName"]
        attributes: dict[str, str] = dict(request.get("Attributes", {}))
        fifo = attributes.get("FifoQueue", "false").lower() == "true"
        pattern = _FIFO_QUEUE_NAME if name.endswith(".fifo") else _QUEUE_NAME
        if not pattern.match(name) or fifo != name.endswith(".fifo"):
            raise ServiceError(
                "InvalidParameterValue",
                "Can only include alphanumeric characters, hyphens, or "
                "underscores. 1 to 80 in length. FIFO queue names must end in .fifo",
            )
        now = self._clock.now()
        wanted = {**DEFAULT_ATTRIBUTES, **attributes}
        record = QueueRecord(
            account_id=ctx.account_id,
            name=name,
            created=now,
            attributes=wanted,
            tags=dict(request.get("tags", {})),
            last_modified=now,
        )
        stored = await self._meta.sqs.create_queue(record)
        if stored.created != now and any(stored.attributes.get(k) != v for k, v in attributes.items()):
            raise ServiceError(
                "QueueNameExists",
                "A queue already exists with the same name and a different "
                "value for attribute(s) " + ", ".join(sorted(attributes)),
            )
        return {"QueueUrl": queue_url(ctx.base_url, ctx.account_id, name)}

    async def get_queue_url(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = request.get("QueueOwnerAWSAccountId", ctx.account_id)
        queue = await self._meta.sqs.get_queue(account, request["QueueName"])
        if queue is None:
            raise _no_queue()
        return {"QueueUrl": queue_url(ctx.base_url, account, queue.name)}

    async def list_queues(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        limit = _int_param(request, "MaxResults", 1, 1000, 1000)
        after = str(request.get("NextToken", ""))
        queues = await self._meta.sqs.list_queues(
            ctx.account_id, str(request.get("QueueNamePrefix", "")), after, limit + 1
        )
        output: dict[str, Any] = {}
        if queues:
            output["QueueUrls"] = [queue_url(ctx.base_url, q.account_id, q.name) for q in queues[:limit]]
        if len(queues) > limit and "MaxResults" in request:
            output["NextToken"] = queues[limit - 1].name
        return output

    async def delete_queue(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, request["QueueUrl"])
        assert queue.queue_id is not None
        await self._meta.sqs.delete_queue(queue.queue_id)
        return {}

    async def get_queue_attributes(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, request["QueueUrl"])
        assert queue.queue_id is not None
        visible, in_flight, delayed = await self._meta.sqs.count_messages(queue.queue_id, self._clock.now())
        everything = {
            **queue.attributes,
            "QueueArn": queue_arn(ctx.region, queue.account_id, queue.name),
            "CreatedTimestamp": str(int(queue.created)),
            "LastModifiedTimestamp": str(int(queue.last_modified or queue.created)),
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
        }
        names = request.get("AttributeNames", [])
        if "All" in names:
            return {"Attributes": everything}
        selected = {n: everything[n] for n in names if n in everything}
        return {"Attributes": selected} if selected else {}

    async def send_message(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, request["QueueUrl"])
        assert queue.queue_id is not None
        body = request["MessageBody"]
        if not body:
            raise ServiceError("MissingParameter", "The request must contain the parameter MessageBody.")
        if _INVALID_CHARS.search(body):
            raise ServiceError(
                "InvalidMessageContents",
                "Invalid characters found. Valid unicode characters are "
                "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            )
        attributes: dict[str, Any] = request.get("MessageAttributes", {})
        size = len(body.encode("utf-8")) + sum(
            len(k) + len(str(v.get("StringValue", v.get("BinaryValue", b"")))) + len(v.get("DataType", ""))
            for k, v in attributes.items()
        )
        limit = int(queue.attributes.get("MaximumMessageSize", MAX_MESSAGE_BYTES))
        if size > limit:
            raise ServiceError(
                "InvalidParameterValue",
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
            )
        delay = _int_param(
            request, "DelaySeconds", 0, MAX_DELAY_SECONDS, int(queue.attributes.get("DelaySeconds", "0"))
        )
        now = self._clock.now()
        message = MessageRecord(
            message_id=str(uuid.uuid4()),
            body=body,
            sent_at=now,
            visible_at=now + delay,
            attrs={"MessageAttributes": _storable(attributes), "SenderId": ctx.caller.user_id},
        )
        try:
            await self._meta.sqs.send(queue.queue_id, [message])
        except QueueMissing:
            raise _no_queue() from None
        self._waiters.notify(queue.queue_id)
        output: dict[str, Any] = {"MessageId": message.message_id, "MD5OfMessageBody": md5_hex(body)}
        if attributes:
            output["MD5OfMessageAttributes"] = attributes_md5(attributes)
        return output

    async def receive_message(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, request["QueueUrl"])
        assert queue.queue_id is not None
        limit = _int_param(request, "MaxNumberOfMessages", 1, MAX_RECEIVE, 1)
        visibility = _int_param(
            request,
            "VisibilityTimeout",
            0,
            MAX_VISIBILITY_TIMEOUT,
            int(queue.attributes.get("VisibilityTimeout", "30")),
        )
        wait = _int_param(
            request,
            "WaitTimeSeconds",
            0,
            MAX_WAIT_SECONDS,
            int(queue.attributes.get("ReceiveMessageWaitTimeSeconds", "0")),
        )
        fifo = queue.name.endswith(".fifo")
        deadline = self._clock.now() + wait
        while True:
            now = self._clock.now()
            claimed = await self._meta.sqs.receive(queue.queue_id, now, limit, visibility, fifo)
            if claimed or now >= deadline:
                break
            await self._waiters.wait(queue.queue_id, min(deadline - now, 1.0))
        system_names = set(request.get("MessageSystemAttributeNames", [])) | set(
            request.get("AttributeNames", [])
        )
        attribute_names = request.get("MessageAttributeNames", [])
        messages = [_message_output(m, system_names, attribute_names) for m in claimed]
        return {"Messages": messages} if messages else {}

    async def delete_message(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, request["QueueUrl"])
        assert queue.queue_id is not None
        message_id, token = _parse_receipt(request["ReceiptHandle"])
        await self._meta.sqs.delete_message(queue.queue_id, message_id, token)
        return {}

    async def _queue(self, ctx: RequestContext, url: str) -> QueueRecord:
        account, name = parse_queue_url(url)
        queue = await self._meta.sqs.get_queue(account, name)
        if queue is None or queue.queue_id is None:
            raise _no_queue()
        return queue


def _no_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def _storable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as JSON-serializable data (binary values base64)."""
    stored: dict[str, Any] = {}
    for name, value in attributes.items():
        entry = {"DataType": value["DataType"]}
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        else:
            entry["StringValue"] = value.get("StringValue", "")
        stored[name] = entry
    return stored


def _loaded(stored: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = {}
    for name, value in stored.items():
        entry: dict[str, Any] = {"DataType": value["DataType"]}
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        else:
            entry["StringValue"] = value["StringValue"]
        loaded[name] = entry
    return loaded


def _wanted(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def _message_output(
    message: MessageRecord, system_names: set[str], attribute_names: list[str]
) -> dict[str, Any]:
    assert message.receipt is not None
    output: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": _receipt_handle(message.message_id, message.receipt),
        "MD5OfBody": md5_hex(message.body),
        "Body": message.body,
    }
    system = {
        "SenderId": str(message.attrs.get("SenderId", "")),
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at) * 1000)),
    }
    if message.sequence is not None and message.group_id is not None:
        system["SequenceNumber"] = str(message.sequence)
        system["MessageGroupId"] = message.group_id
    if message.dedup_id is not None:
        system["MessageDeduplicationId"] = message.dedup_id
    chosen = system if "All" in system_names else {k: v for k, v in system.items() if k in system_names}
    if chosen:
        output["Attributes"] = chosen
    attributes = _loaded(message.attrs.get("MessageAttributes", {}))
    selected = {k: v for k, v in attributes.items() if _wanted(k, attribute_names)}
    if selected:
        output["MessageAttributes"] = selected
        output["MD5OfMessageAttributes"] = attributes_md5(selected)
    return output
