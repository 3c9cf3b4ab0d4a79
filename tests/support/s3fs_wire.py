"""The JSON encoding between ``s3fs_remote`` (the tests) and ``s3fs_driver`` (in the s3fs venv).

Bytes travel as ``{"$bytes": base64}``; other values JSON cannot hold (datetimes) as their ``str``.
This module imports nothing outside the standard library: the driver loads it from its own folder.
"""

from __future__ import annotations

import base64
from typing import Any


def encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value
