"""The request path's fast paths give exactly what the general code they stand in for gives.

Each fast path (form parsing, JSON loading, XML escaping, the URL encoding of listed keys) is
compared with the standard library function it replaces, on arbitrary input, including the
failures.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.protocol.json import _load
from kumoi.protocol.query import MAX_PARAMETERS, _parse_pairs
from kumoi.protocol.xml import _ESCAPES_TEXT, escape_text, needs_escape
from kumoi.services.s3.listing import _url_encode, _url_unsafe

SETTINGS = settings(max_examples=400, deadline=None)

#: Text that is mostly what forms are made of: escapes (valid, broken, non-UTF-8), separators,
#: plus signs, ASCII and a few non-ASCII characters.
FORM_PIECES = st.sampled_from(
    [
        "%3A",
        "%3a",
        "%2F",
        "%25",
        "%",
        "%4",
        "%zz",
        "%C3%A9",
        "%C3",
        "%A9",
        "%FF",
        "%E2%82%AC",
        "+",
        "=",
        "&",
        "a",
        "Z",
        "0",
        ".",
        "-",
        ":",
        "é",
        "€",
        "\x80",
        " ",
        "Action",
        "member",
    ]
)
FORM_TEXT = st.lists(FORM_PIECES, max_size=30).map("".join)


def _reference(text: str) -> list[tuple[str, str]] | str:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMETERS)
    except UnicodeDecodeError:
        return "MalformedQueryString"


def _fast(text: str) -> list[tuple[str, str]] | str:
    try:
        return _parse_pairs(text)
    except ServiceError as error:
        return error.code


@SETTINGS
@given(FORM_TEXT)
def test_form_parsing_is_parse_qsl(text: str) -> None:
    assert _fast(text) == _reference(text)


@SETTINGS
@given(st.text(max_size=40))
def test_form_parsing_of_any_text_is_parse_qsl(text: str) -> None:
    assert _fast(text) == _reference(text)


@pytest.mark.parametrize("fields", [MAX_PARAMETERS, MAX_PARAMETERS + 1])
def test_form_parameter_limit(fields: int) -> None:
    text = "&".join(["a=1"] * fields)
    if fields > MAX_PARAMETERS:
        with pytest.raises(ServiceError) as raised:
            _parse_pairs(text)
        assert raised.value.code == "MalformedQueryString"
        with pytest.raises(ValueError):
            parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PARAMETERS)
    else:
        assert _parse_pairs(text) == [("a", "1")] * fields


JSON_PIECES = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b":",
        b",",
        b" ",
        b"\0",
        b"a",
        b"1",
        b"-",
        b".",
        b"e",
        b"NaN",
        b"\\u00e9",
        b"\\ud800",
        b"\\udc00",
        b"\\ud83d\\ude00",
        b"\xed\xa0\x80",
        b"\xc3\xa9",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xfe\xff",
        b"true",
        b"null",
    ]
)
JSON_BYTES = st.lists(JSON_PIECES, max_size=25).map(b"".join)
JSON_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _json_reference(body: bytes) -> Any:
    """``json.loads``, refusing what it gives that UTF-8 cannot carry (a lone surrogate)."""
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return "SerializationException"
    return document


def _json_fast(body: bytes) -> Any:
    try:
        return _load(body)
    except ServiceError as error:
        return error.code


@SETTINGS
@given(JSON_BYTES)
def test_json_loading_is_json_loads(body: bytes) -> None:
    assert repr(_json_fast(body)) == repr(_json_reference(body))


@SETTINGS
@given(JSON_DOCUMENTS, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig"]))
def test_json_loading_of_documents_is_json_loads(document: Any, encoding: str) -> None:
    body = json.dumps({"k": document}, ensure_ascii=False).encode(encoding)
    assert repr(_json_fast(body)) == repr(_json_reference(body))


@SETTINGS
@given(st.text(alphabet=st.sampled_from("ab&<>\r\n\"'é"), max_size=20) | st.text(max_size=20))
def test_xml_text_escaping_is_translate(text: str) -> None:
    assert escape_text(text) == text.translate(_ESCAPES_TEXT)


@SETTINGS
@given(st.text(alphabet=st.sampled_from("ab&<>\r\n\"'é"), max_size=20) | st.text(max_size=20))
def test_xml_escape_need_is_what_translate_changes(text: str) -> None:
    assert needs_escape(text) == (text.translate(_ESCAPES_TEXT) != text)


@SETTINGS
@given(st.text(alphabet=st.sampled_from("aZ09_.-~/ +%&é\x00\x7f"), max_size=20) | st.text(max_size=20))
def test_listing_url_encoding_is_quote_plus(text: str) -> None:
    encoded = quote_plus(text, safe="/")
    assert _url_unsafe(text) == (encoded != text)
    assert _url_encode(text) == encoded
