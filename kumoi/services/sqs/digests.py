"""MD5 digests SQS returns for message bodies and attributes.

Attributes are digested as AWS documents ("Calculating the MD5 message digest for message
attributes"): for each attribute in name order, the 4-byte big-endian length and UTF-8 bytes of the
name, then of the data type, a transport byte (1 string/number, 2 binary), then the length and bytes
of the value. SDKs recompute these and reject a response that disagrees.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

_STRING = b"\x01"
_BINARY = b"\x02"


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def attributes_md5(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """MD5 hex of message (or message system) attributes in their API form
    (``{"Name": {"DataType": ..., "StringValue"|"BinaryValue": ...}}``)."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        data_type = str(value["DataType"])
        digest.update(_field(name.encode("utf-8")))
        digest.update(_field(data_type.encode("utf-8")))
        if "BinaryValue" in value:
            digest.update(_BINARY)
            digest.update(_field(bytes(value["BinaryValue"])))
        else:
            digest.update(_STRING)
            digest.update(_field(str(value.get("StringValue", "")).encode("utf-8")))
    return digest.hexdigest()
