"""Batch requests: the batch-level checks and the per-entry failure entries.

A batch is refused as a whole when it is empty, too long, or its entry ids are malformed or
repeated; otherwise each entry succeeds or fails on its own and the response lists both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.sqs import limits

_ENTRY_ID = re.compile(rf"^[A-Za-z0-9_-]{{1,{limits.MAX_BATCH_ID_LENGTH}}}$")


def check_batch(entries: Sequence[Mapping[str, Any]], entry_shape: str) -> None:
    """Raise the batch-level error AWS gives for these entries, if any."""
    if not entries:
        raise ServiceError("EmptyBatchRequest", f"There should be at least one {entry_shape} in the request.")
    if len(entries) > limits.MAX_BATCH_ENTRIES:
        raise ServiceError(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {limits.MAX_BATCH_ENTRIES}. "
            f"You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry["Id"]
        if not _ENTRY_ID.fullmatch(entry_id):
            raise ServiceError(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                f"It can be at most {limits.MAX_BATCH_ID_LENGTH} letters long.",
            )
        if entry_id in seen:
            raise ServiceError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)


def failure(entry_id: str, error: ServiceError) -> dict[str, Any]:
    """A ``BatchResultErrorEntry`` for an entry that failed with ``error``."""
    return {"Id": entry_id, "SenderFault": error.sender_fault, "Code": error.code, "Message": error.message}
