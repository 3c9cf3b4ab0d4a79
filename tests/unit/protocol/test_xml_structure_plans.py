"""A structure's compiled writer (scalar members written from tags and formatters compiled once)
writes exactly what writing each member by the rules of the wire format gives, whatever the values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.protocol.rest_values import format_iso8601
from kumoi.protocol.rest_xmlbody import XmlWriters
from kumoi.protocol.spec import service_model
from kumoi.protocol.xml import escape_text

MODEL = service_model("s3")
OUTPUT = MODEL.operation_model("ListObjectVersions").output_shape
assert OUTPUT is not None
VERSIONS = OUTPUT.members["Versions"]
WRITE_VERSION = XmlWriters().writer(VERSIONS.member)

#: Text with and without what XML escapes, as keys (and EncodingType=url keys) can be.
texts = st.text(st.characters(max_codepoint=0xD7FF) | st.sampled_from("&<>\r\"'"), max_size=12) | (
    st.sampled_from(["a%2Fb+c", "%26amp%3B", "🌸&<", ""])
)
#: Seconds since the epoch (the stored form), whole seconds, and ends of milliseconds that a
#: careless rounding gets wrong; datetimes, naive and in other zones.
timestamps = (
    st.floats(min_value=0, max_value=253_402_300_799.99, allow_nan=False)
    | st.integers(min_value=0, max_value=4_000_000_000)
    | st.sampled_from([1.9, 1_700_000_000.9995, 1_700_000_000.0004999, 0.0000005, 1_699_999_999.9999996])
    | st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30))
    | st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]),
    )
)
owners = st.fixed_dictionaries({}, optional={"DisplayName": texts, "ID": texts})
versions = st.fixed_dictionaries(
    {},
    optional={
        "ETag": texts,
        "ChecksumAlgorithm": st.lists(st.sampled_from(["CRC32", "CRC64NVME", "SHA256"]), max_size=2),
        "ChecksumType": st.sampled_from(["FULL_OBJECT", "COMPOSITE"]),
        "Size": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "StorageClass": texts,
        "Key": texts,
        "VersionId": texts | st.none(),
        "IsLatest": st.booleans(),
        "LastModified": timestamps,
        "Owner": owners,
        "Unmodelled": texts,
    },
)


def _element(name: str, text: str) -> str:
    return f"<{name}>{text}</{name}>"


def _expected_version(value: dict[str, Any]) -> str:
    """The ObjectVersion element, member by member in the value's order, by the rest-xml rules:
    strings escaped, integers in decimal, booleans ``true``/``false``, timestamps ISO 8601 with
    milliseconds, the flattened checksum list repeated, the owner nested; absent and unmodelled
    members left out."""
    out = ["<Version>"]
    for member, item in value.items():
        if item is None or member == "Unmodelled":
            continue
        if member in ("ETag", "ChecksumType", "StorageClass", "Key", "VersionId"):
            out.append(_element(member, escape_text(item)))
        elif member == "Size":
            out.append(_element(member, str(item)))
        elif member == "IsLatest":
            out.append(_element(member, "true" if item else "false"))
        elif member == "LastModified":
            out.append(_element(member, format_iso8601(item)))
        elif member == "ChecksumAlgorithm":
            out.extend(_element(member, escape_text(algorithm)) for algorithm in item)
        else:
            inner = "".join(_element(name, escape_text(text)) for name, text in item.items())
            out.append(_element(member, inner))
    out.append("</Version>")
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(versions)
def test_structure_writer_writes_each_member_by_the_rules(value: dict[str, Any]) -> None:
    parts: list[str] = []
    WRITE_VERSION(parts, "Version", value)
    assert "".join(parts) == _expected_version(value)


@settings(max_examples=500, deadline=None)
@given(timestamps)
def test_iso8601_without_a_datetime_says_what_the_datetime_says(value: float | datetime) -> None:
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    assert format_iso8601(value) == format_iso8601(moment)
