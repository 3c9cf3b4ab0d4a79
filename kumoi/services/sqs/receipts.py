"""Receipt handles: the message id and the receive's token, opaque to clients.

A handle names one receive of one message. The store keeps only the current token, so a handle
from an earlier receive (the message came back and was received again) no longer matches: it
cannot delete or hide the message a later receiver holds.
"""

from __future__ import annotations

import base64
import binascii
import re

from kumoi.core.errors import ServiceError

_DECODED = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([A-Za-z0-9_-]{16,64})$"
)
#: Longest handle worth decoding (real ones are about 110 characters).
MAX_HANDLE_LENGTH = 1024


def receipt_handle(message_id: str, token: str) -> str:
    return base64.urlsafe_b64encode(f"{message_id}:{token}".encode()).decode()


def invalid_handle(handle: str) -> ServiceError:
    return ServiceError(
        "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.'
    )


def parse_receipt(handle: str) -> tuple[str, str]:
    """(message id, token) of a handle; ``ReceiptHandleIsInvalid`` for anything we did not issue."""
    if not handle or len(handle) > MAX_HANDLE_LENGTH or not handle.isascii():
        raise invalid_handle(handle[:MAX_HANDLE_LENGTH])
    try:
        decoded = base64.urlsafe_b64decode(handle.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid_handle(handle) from None
    match = _DECODED.fullmatch(decoded)
    if match is None:
        raise invalid_handle(handle)
    return match.group(1), match.group(2)
