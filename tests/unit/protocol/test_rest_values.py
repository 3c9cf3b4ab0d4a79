"""Text conversions of the REST protocols."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kumoi.protocol.rest_values import (
    UriError,
    format_http_date,
    format_iso8601,
    parse_integer,
    parse_query,
    parse_timestamp,
    percent_decode,
    split_date_list,
    split_header_list,
)

TEXT = st.text(st.characters(codec="utf-8"))


@given(TEXT)
def test_percent_decode_inverts_quote(text: str) -> None:
    assert percent_decode(quote(text, safe="/~+")) == text


@given(TEXT, TEXT)
def test_query_round_trip(key: str, value: str) -> None:
    assume(key != "flag")
    parsed = parse_query(f"{quote(key, safe='')}={quote(value, safe='')}&flag")
    assert parsed == {key: [value], "flag": [""]}


def test_query_plus_is_space_and_path_plus_is_plus() -> None:
    assert parse_query("prefix=a+b") == {"prefix": ["a b"]}
    assert percent_decode("a+b") == "a+b"


@pytest.mark.parametrize("bad", ["%", "%4", "%zz", "%C3%28", "%FF", "%ED%A0%80"])
def test_percent_decode_rejects(bad: str) -> None:
    with pytest.raises(UriError):
        percent_decode(bad)


def test_raw_utf8_in_latin1_path() -> None:
    assert percent_decode("caf\u00c3\u00a9") == "caf\u00e9"


@pytest.mark.parametrize(
    "text",
    [
        "2015-10-21T07:28:00Z",
        "2015-10-21T07:28:00.000Z",
        "2015-10-21T09:28:00+02:00",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "1445412480",
    ],
)
def test_timestamps(text: str) -> None:
    assert parse_timestamp(text) == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["", "soon", "2015-13-45T00:00:00Z", "Wed, 99 Foo 2015"])
def test_bad_timestamps(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(bad)


def test_formats() -> None:
    when = datetime(2009, 10, 12, 17, 50, 30, 123456, tzinfo=UTC)
    assert format_iso8601(when) == "2009-10-12T17:50:30.123Z"
    assert format_http_date(when) == "Mon, 12 Oct 2009 17:50:30 GMT"
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize("bad", ["", "1.5", "abc", "1e3", "\u0661"])
def test_integers(bad: str) -> None:
    assert parse_integer(" -42 ") == -42
    with pytest.raises(ValueError):
        parse_integer(bad)


def test_header_lists() -> None:
    assert split_header_list('a, "b,c", d') == ["a", "b,c", "d"]
    assert split_header_list("") == []
    assert split_date_list("Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT") == [
        "Mon, 16 Dec 2019 23:48:18 GMT",
        "Tue, 17 Dec 2019 23:48:18 GMT",
    ]
