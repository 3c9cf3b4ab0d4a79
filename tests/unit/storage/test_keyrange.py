"""Prefix successors and listing bounds agree with ``startswith`` in UTF-8 byte order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kumoi.storage.meta.sqlite.keyrange import key_range, prefix_successor

# Characters near the boundaries where UTF-8 lengths and surrogates change.
EDGES = st.sampled_from(
    [
        "a",
        "z",
        "\x00",
        "\x7f",
        "\x80",
        "\u00ff",
        "\u07ff",
        "\u0800",
        "\ud7ff",
        "\ue000",
        "\uffff",
        "\U00010000",
        "\U0010fffe",
        "\U0010ffff",
    ]
)
KEYS = st.lists(st.one_of(EDGES, st.characters(blacklist_categories=["Cs"])), max_size=4).map("".join)


def _in_range(key: str, prefix: str, after: str) -> bool:
    bounds = key_range(prefix, after)
    encoded = key.encode()
    lower = bounds.lower.encode()
    if encoded < lower or (bounds.exclusive and encoded == lower):
        return False
    return bounds.upper is None or encoded < bounds.upper.encode()


@given(KEYS, KEYS, KEYS)
def test_range_matches_startswith_and_after(key: str, prefix: str, after: str) -> None:
    assert _in_range(key, prefix, after) == (key.startswith(prefix) and key.encode() > after.encode())


def test_successor_edges() -> None:
    assert prefix_successor("") is None
    assert prefix_successor("\U0010ffff\U0010ffff") is None
    assert prefix_successor("a\U0010ffff") == "b"
    assert prefix_successor("a\ud7ff") == "a\ue000"
    assert prefix_successor("a\u00ff") == "a\u0100"
    assert prefix_successor("ab") == "ac"
