"""The hand-written ``<Contents>`` writer says exactly what the compiled writer says."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import botocore.session
import pytest
from botocore.parsers import RestXMLParser
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.protocol import rest_s3
from kumoi.protocol.rest_values import format_iso8601
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model

MODEL = service_model("s3")
FAST = RestXmlCodec(MODEL)
ENTRIES: list[dict[str, Any]] = [
    {
        "Key": "a<&>\r b",
        "LastModified": 1_700_000_000.25,
        "ETag": '"e1"',
        "Size": 3,
        "StorageClass": "STANDARD",
    },
    {
        "Key": "dir/🌸",
        "LastModified": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "ETag": '"e2-3"',
        "Size": 10**12,
        "StorageClass": "GLACIER",
        "ChecksumAlgorithm": ["CRC64NVME"],
        "ChecksumType": "FULL_OBJECT",
        "Owner": {"ID": "abc", "DisplayName": "me & you"},
    },
    {"Key": "restored", "Size": 1, "RestoreStatus": {"IsRestoreInProgress": True}},
]


@functools.cache
def _output_shape(operation: str) -> Any:
    return botocore.session.get_session().get_service_model("s3").operation_model(operation).output_shape


def _parse(operation: str, body: bytes) -> dict[str, Any]:
    shape = _output_shape(operation)
    response = {"status_code": 200, "headers": {}, "body": body}
    parsed: dict[str, Any] = RestXMLParser().parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


@pytest.mark.parametrize("operation", ["ListObjects", "ListObjectsV2"])
def test_fast_contents_match_the_compiled_writer(operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    output = {"Name": "b", "Contents": ENTRIES, "IsTruncated": False}
    fast = FAST.encode(operation, output, "R").body
    monkeypatch.setattr(rest_s3, "WRITER_OVERRIDES", {})
    slow = RestXmlCodec(MODEL).encode(operation, output, "R").body
    assert isinstance(fast, bytes) and isinstance(slow, bytes)
    assert fast != slow or fast.count(b"<Contents>") == 3
    assert _parse(operation, fast) == _parse(operation, slow)
    assert b"<Key>a&lt;&amp;&gt;&#xD; b</Key>" in fast
    assert b"<LastModified>2023-11-14T22:13:20.250Z</LastModified>" in fast


def _compiled_codec() -> RestXmlCodec:
    """The codec without hand-written writers (what the fast ones must agree with)."""
    with mock.patch.object(rest_s3, "WRITER_OVERRIDES", {}):
        return RestXmlCodec(MODEL)


SLOW = _compiled_codec()
SHARED_PLAIN = {"StorageClass": "STANDARD"}
SHARED_FULL = {
    "ChecksumAlgorithm": ["CRC32", "SHA256"],
    "ChecksumType": "COMPOSITE",
    "StorageClass": "GLACIER",
    "Owner": {"ID": "abc", "DisplayName": "me & you"},
}
TUPLES: list[rest_s3.ListedEntry] = [
    ("a<&>\r b", 1_700_000_000.25, '"e1"', 3, SHARED_PLAIN),
    ("dir/🌸", 1_700_000_000.999, '"e2-3"', 10**12, SHARED_FULL),
    ("next", 1_700_000_001.5, '"e3"', 0, SHARED_FULL),
    (
        "restored",
        1_700_000_002.0,
        '"e4"',
        1,
        {**SHARED_PLAIN, "RestoreStatus": {"IsRestoreInProgress": True}},
    ),
]


@pytest.mark.parametrize("operation", ["ListObjects", "ListObjectsV2"])
def test_listed_entries_say_what_their_members_say(operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    members = [rest_s3.entry_members(entry) for entry in TUPLES]
    fast = FAST.encode(operation, {"Name": "b", "Contents": TUPLES, "IsTruncated": False}, "R").body
    assert fast == FAST.encode(operation, {"Name": "b", "Contents": members, "IsTruncated": False}, "R").body
    monkeypatch.setattr(rest_s3, "WRITER_OVERRIDES", {})
    slow = RestXmlCodec(MODEL).encode(
        operation, {"Name": "b", "Contents": members, "IsTruncated": False}, "R"
    )
    assert isinstance(fast, bytes) and isinstance(slow.body, bytes)
    assert fast.count(b"<Contents>") == 4
    assert _parse(operation, fast) == _parse(operation, slow.body)


def test_entries_carry_their_members_in_s3s_order() -> None:
    body = FAST.encode(
        "ListObjectsV2", {"Name": "b", "Contents": TUPLES[1:2], "IsTruncated": False}, "R"
    ).body
    assert isinstance(body, bytes)
    entry = body[body.index(b"<Contents>") : body.index(b"</Contents>")].decode()
    order = [
        "Key",
        "LastModified",
        "ETag",
        "ChecksumAlgorithm",
        "ChecksumAlgorithm",
        "ChecksumType",
        "Size",
        "StorageClass",
        "Owner",
        "DisplayName",
        "ID",
    ]
    tags = [tag for tag in re.findall(r"<([A-Za-z]+)>", entry) if tag != "Contents"]
    assert tags == order
    assert "<LastModified>2023-11-14T22:13:20.999Z</LastModified>" in entry


names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1)
keys = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("&<>\r\t"), min_size=1)
shared_members = st.fixed_dictionaries(
    {"StorageClass": st.sampled_from(["STANDARD", "GLACIER"])},
    optional={
        "ChecksumAlgorithm": st.lists(st.sampled_from(["CRC32", "SHA1"]), min_size=1, unique=True),
        "ChecksumType": st.sampled_from(["FULL_OBJECT", "COMPOSITE"]),
        "Owner": st.fixed_dictionaries({"ID": names}, optional={"DisplayName": names}),
    },
)
listed_entries = st.tuples(
    keys,
    st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False),
    st.sampled_from(['"e"', '"abc-2"']),
    st.integers(min_value=0, max_value=5 * 2**40),
    shared_members,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(listed_entries, max_size=6))
def test_any_entries_match_the_compiled_writer(entries: list[rest_s3.ListedEntry]) -> None:
    members = [rest_s3.entry_members(entry) for entry in entries]
    fast = FAST.encode("ListObjectsV2", {"Name": "b", "Contents": entries, "IsTruncated": False}, "R").body
    slow = SLOW.encode("ListObjectsV2", {"Name": "b", "Contents": members, "IsTruncated": False}, "R").body
    assert isinstance(fast, bytes) and isinstance(slow, bytes)
    assert _parse("ListObjectsV2", fast) == _parse("ListObjectsV2", slow)


def _contents(codec: RestXmlCodec, items: list[Any]) -> bytes:
    body = codec.encode("ListObjectsV2", {"Name": "b", "Contents": items, "IsTruncated": False}, "R").body
    assert isinstance(body, bytes)
    return body[body.index(b"<Name>b</Name>") + 14 : body.rindex(b"<IsTruncated>")]


#: A mapping entry: a page that holds one is written by the general loop, entry by entry.
MAPPING_ENTRY = {"Key": "m", "LastModified": 1.0, "ETag": '"m"', "Size": 1, "StorageClass": "STANDARD"}
#: Timestamps whose milliseconds a careless rounding gets wrong: .9995 and up round to the next
#: second at microsecond precision, 1.9 is 1.8999... as a float, ties round half to even.
EDGE_TIMES = st.sampled_from(
    [1.9, 1_700_000_000.9995, 1_700_000_000.9994999, 1_700_000_000.0005, 0.0000005, 1_699_999_999.9999996]
)
#: Values that need XML escaping, and values like EncodingType=url keys (``%XX`` and ``+``).
texts = (
    keys
    | st.sampled_from(["a&b", "<k>", "x\r\ny", "p%2Fq+r", "%26amp%3B", "🌸&"])
    | st.text(st.sampled_from("ab&<>\r%+/"), min_size=1)
)
page_entries = st.tuples(
    texts,
    st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False) | EDGE_TIMES,
    st.sampled_from(['"e"', '"abc-2"', '"&<>"', 'W/"x\r"']),
    st.integers(min_value=0, max_value=5 * 2**40),
    shared_members | st.just({"StorageClass": "STANDARD", "RestoreStatus": {"IsRestoreInProgress": False}}),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(page_entries, min_size=1, max_size=8))
def test_a_page_of_tuples_renders_exactly_what_the_general_loop_renders(
    entries: list[rest_s3.ListedEntry],
) -> None:
    """The whole-page path for tuples (page-wide escape checks, tables for the timestamp's text)
    gives the very bytes the general loop gives for the same entries as member mappings, and the
    same bytes entry by entry (a page that also holds a mapping)."""
    fast = _contents(FAST, entries)
    members = [rest_s3.entry_members(entry) for entry in entries]
    assert _contents(FAST, [*members, MAPPING_ENTRY]) == fast + _contents(FAST, [MAPPING_ENTRY])
    assert _contents(FAST, [*entries, MAPPING_ENTRY]) == fast + _contents(FAST, [MAPPING_ENTRY])
    whole = FAST.encode("ListObjectsV2", {"Name": "b", "Contents": entries, "IsTruncated": False}, "R").body
    slow = SLOW.encode("ListObjectsV2", {"Name": "b", "Contents": members, "IsTruncated": False}, "R").body
    assert isinstance(whole, bytes) and isinstance(slow, bytes)
    assert _parse("ListObjectsV2", whole) == _parse("ListObjectsV2", slow)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False) | EDGE_TIMES)
def test_listed_timestamps_say_what_datetime_says(modified: float) -> None:
    body = _contents(FAST, [("k", modified, '"e"', 1, SHARED_PLAIN)]).decode()
    stamp = body[body.index("<LastModified>") + 14 : body.index("</LastModified>")]
    assert stamp == format_iso8601(datetime.fromtimestamp(modified, UTC))
