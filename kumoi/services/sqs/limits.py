"""SQS's documented limits, in one place (SQS Developer Guide, "Amazon SQS quotas", and the API
reference of each operation, as of the 2025 raise of the message size to 1 MiB)."""

from __future__ import annotations

#: Largest message (body plus attribute names, types and values) and largest batch total.
MAX_MESSAGE_BYTES = 1024 * 1024
MIN_MESSAGE_BYTES = 1024
MAX_BATCH_ENTRIES = 10
MAX_BATCH_ID_LENGTH = 80
MAX_RECEIVE = 10
MAX_WAIT_SECONDS = 20
MAX_VISIBILITY_TIMEOUT = 12 * 3600
MAX_DELAY_SECONDS = 900
MIN_RETENTION_SECONDS = 60
MAX_RETENTION_SECONDS = 14 * 24 * 3600
MIN_KMS_REUSE_SECONDS = 60
MAX_KMS_REUSE_SECONDS = 24 * 3600
MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_LENGTH = 256
#: MessageGroupId and MessageDeduplicationId.
MAX_FIFO_ID_LENGTH = 128
#: FIFO deduplication interval.
DEDUP_WINDOW_SECONDS = 5 * 60
#: How long a FIFO receive's ReceiveRequestAttemptId can be retried.
RECEIVE_ATTEMPT_WINDOW_SECONDS = 5 * 60
MIN_MAX_RECEIVE_COUNT = 1
MAX_MAX_RECEIVE_COUNT = 1000
MAX_REDRIVE_SOURCE_ARNS = 10
MAX_TAGS = 50
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
MAX_PERMISSION_ACTIONS = 7
MAX_LIST_QUEUES = 1000
#: One PurgeQueue per queue in this many seconds.
PURGE_INTERVAL_SECONDS = 60
#: A deleted queue's name cannot be reused for this long.
QUEUE_NAME_REUSE_SECONDS = 60
MAX_MOVE_RATE = 500
MAX_MOVE_TASKS_LISTED = 10
