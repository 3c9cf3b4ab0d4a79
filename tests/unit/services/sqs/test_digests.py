"""Message attribute MD5s against an independent reference built from AWS's description.

The reference follows the SQS Developer Guide's steps literally, assembling one bytearray:
attributes sorted by name; for each, the name's length as 4 bytes (big-endian) and its UTF-8
bytes, the same for the data type, one transport byte (1 for String/Number, 2 for Binary), then
the value's length and bytes. The MD5 of the whole is compared as hex with kumoi's.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kumoi.services.sqs.digests import attributes_md5, md5_hex


def reference_md5(attributes: dict[str, dict[str, Any]]) -> str:
    buffer = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        for text in (name, value["DataType"]):
            encoded = text.encode("utf-8")
            buffer += len(encoded).to_bytes(4, "big") + encoded
        if value["DataType"].startswith("Binary"):
            data = value["BinaryValue"]
            buffer += b"\x02" + len(data).to_bytes(4, "big") + data
        else:
            data = value["StringValue"].encode("utf-8")
            buffer += b"\x01" + len(data).to_bytes(4, "big") + data
    return hashlib.md5(bytes(buffer)).hexdigest()


_names = st.from_regex(r"[A-Za-z0-9_\-]{1,20}", fullmatch=True)
_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=50)
_string = st.builds(
    lambda kind, suffix, value: {"DataType": kind + suffix, "StringValue": value},
    st.sampled_from(["String", "Number"]),
    st.sampled_from(["", ".custom", ".雲"]),
    _text,
)
_binary = st.builds(
    lambda suffix, value: {"DataType": "Binary" + suffix, "BinaryValue": value},
    st.sampled_from(["", ".png"]),
    st.binary(min_size=1, max_size=64),
)


@given(st.dictionaries(_names, st.one_of(_string, _binary), min_size=1, max_size=10))
def test_attribute_md5_matches_reference(attributes: dict[str, dict[str, Any]]) -> None:
    assert attributes_md5(attributes) == reference_md5(attributes)


def test_known_vector() -> None:
    # A single String attribute, digest computed by hand from the documented layout.
    attributes = {"a": {"DataType": "String", "StringValue": "b"}}
    layout = b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01b"
    assert attributes_md5(attributes) == hashlib.md5(layout).hexdigest()


@given(_text)
def test_body_md5(body: str) -> None:
    assert md5_hex(body) == hashlib.md5(body.encode("utf-8")).hexdigest()
