"""JSON columns: the documents the contract's records carry (``attrs``, ``config``, ...).

Most records carry an empty document, so the empty case skips the JSON codec both ways.
"""

from __future__ import annotations

import json
from typing import Any

_EMPTY = "{}"
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_decode = json.JSONDecoder().decode


def dump_doc(doc: dict[str, Any]) -> str:
    return _encode(doc) if doc else _EMPTY


def load_doc(text: str) -> dict[str, Any]:
    if text == _EMPTY:
        return {}
    value: dict[str, Any] = _decode(text)
    return value
