"""The canonical query's short cuts (already-canonical components and whole query strings are
used as they are) give exactly what decoding and re-encoding every component gives."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.auth.canonical import canonical_query, uri_encode
from kumoi.auth.sigv4 import _presign_params
from kumoi.auth.sigv4 import _unquote as presign_unquote

#: Pieces a query component is made of: unreserved and reserved characters, and escapes of every
#: kind (upper and lower case hex, of unreserved and of reserved bytes, and broken ones).
_PIECES = st.one_of(
    st.sampled_from(list("aZ09-_.~+/;:@!$'()*,[] ")),
    st.integers(0, 255).map(lambda b: f"%{b:02X}"),
    st.integers(0, 255).map(lambda b: f"%{b:02x}"),
    st.sampled_from(["%", "%2", "%G1", "é", "\u00ff", "\u20ac"]),
)
_COMPONENT = st.lists(_PIECES, max_size=8).map("".join)


def _raw(text: str) -> bytes:
    """The bytes the edge received (it decodes the request target as latin-1)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _reference(query: str, exclude: str | None = None) -> str:
    """SigV4's rule spelled out: decode every name and value, encode it again, sort the pairs."""
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if name == exclude:
            continue
        pairs.append(tuple(uri_encode(unquote_to_bytes(_raw(part))) for part in (name, value)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_COMPONENT, st.sampled_from(["=", ""]), _COMPONENT), max_size=6))
def test_canonical_query_equals_the_reference(pieces: list[tuple[str, str, str]]) -> None:
    query = "&".join(name + equals + (value if equals else "") for name, equals, value in pieces)
    assert canonical_query(query) == _reference(query)
    if pieces:
        excluded = pieces[0][0]
        assert canonical_query(query, exclude=excluded) == _reference(query, excluded)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("b=2&a=1", "a=1&b=2"),
        ("uploads", "uploads="),
        ("a=%41%2F%2f", "a=A%2F%2F"),  # escaped unreserved byte decoded, lower-case hex upper-cased
        ("a=2&a=1&a", "a=&a=1&a=2"),
        ("a-b=1&a=2&a.b=3", "a=2&a-b=1&a.b=3"),
        ("X-Amz-Signature=abc&X-Amz-Date=1", "X-Amz-Date=1"),
    ],
)
def test_canonical_query_examples(query: str, expected: str) -> None:
    assert canonical_query(query, exclude="X-Amz-Signature") == expected


@settings(max_examples=300, deadline=None)
@given(_COMPONENT)
def test_presign_values_decode_as_unquote_does(value: str) -> None:
    from urllib.parse import unquote

    assert presign_unquote(value) == unquote(value)
    assert _presign_params(f"X-Amz-Credential={value}") == {"X-Amz-Credential": unquote(value)}
