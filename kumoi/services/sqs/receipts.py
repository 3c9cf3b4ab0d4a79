"""Receipt handles: where the message is stored and the receive's token, opaque to clients.

A handle names one receive of one message: the message's sequence (its row in the store, kept
for its whole life, also when it moves to a dead-letter queue) and the random token that receive
was issued. The store keeps only the current token, so a handle from an earlier receive (the
message came back and was received again) no longer matches: it cannot delete or hide the
message a later receiver holds.

Earlier kumoi versions issued handles that named the message id instead of the sequence; they
still parse, as handles of a receive that is no longer current (``STALE``): deleting with one
succeeds and deletes nothing, as with any stale handle, and the message comes back when its
visibility timeout ends.
"""

from __future__ import annotations

import base64
import binascii
import re

from kumoi.core.errors import ServiceError

_DECODED = re.compile(r"^([1-9][0-9]{0,18}):([A-Za-z0-9_-]{16,64})$")
_BY_MESSAGE_ID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:([A-Za-z0-9_-]{16,64})$"
)
#: Longest handle worth decoding (real ones are about 60 characters).
MAX_HANDLE_LENGTH = 1024
#: The sequence of a handle that names no stored message (sequences start at 1).
STALE = 0


def receipt_handle(sequence: int, token: str) -> str:
    return base64.urlsafe_b64encode(f"{sequence}:{token}".encode()).decode()


def invalid_handle(handle: str) -> ServiceError:
    return ServiceError(
        "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.'
    )


def parse_receipt(handle: str) -> tuple[int, str]:
    """(sequence, token) of a handle; ``ReceiptHandleIsInvalid`` for anything we did not issue."""
    if not handle or len(handle) > MAX_HANDLE_LENGTH or not handle.isascii():
        raise invalid_handle(handle[:MAX_HANDLE_LENGTH])
    try:
        decoded = base64.urlsafe_b64decode(handle.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid_handle(handle) from None
    match = _DECODED.fullmatch(decoded)
    if match is not None:
        return int(match.group(1)), match.group(2)
    legacy = _BY_MESSAGE_ID.fullmatch(decoded)
    if legacy is not None:
        return STALE, legacy.group(1)
    raise invalid_handle(handle)
