"""Prefix and start-after bounds as index range scans, in UTF-8 byte order.

UTF-8 preserves code point order, so the byte order SQLite's ``BINARY`` collation gives is the
code point order of Python strings. "Starts with ``prefix``" becomes the range
``prefix <= key < successor(prefix)``, and "after ``after``" folds into the lower bound, so a
listing never scans keys outside its answer (``LIKE`` would, and would also treat ``%`` and ``_``
in keys as wildcards).
"""

from __future__ import annotations

from typing import NamedTuple

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES_START = 0xD800
_SURROGATES_END = 0xDFFF


def prefix_successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix``.

    None when there is none (an empty prefix, or one made only of U+10FFFF): the range is then
    unbounded above. Surrogates cannot be encoded in UTF-8, so the successor of U+D7FF is U+E000.
    """
    stripped = prefix.rstrip(chr(_MAX_CODE_POINT))
    if not stripped:
        return None
    last = ord(stripped[-1]) + 1
    if _SURROGATES_START <= last <= _SURROGATES_END:
        last = _SURROGATES_END + 1
    return stripped[:-1] + chr(last)


class KeyRange(NamedTuple):
    """Bounds for one listing: ``key > lower`` if ``exclusive`` else ``key >= lower``, and
    ``key < upper`` unless ``upper`` is None."""

    lower: str
    exclusive: bool
    upper: str | None


def key_range(prefix: str, after: str) -> KeyRange:
    """The bounds for keys starting with ``prefix`` and greater than ``after``."""
    upper = prefix_successor(prefix)
    if after >= prefix:
        return KeyRange(after, True, upper)
    return KeyRange(prefix, False, upper)


def range_sql(template: str, column: str) -> dict[tuple[bool, bool], str]:
    """The four constant variants of a listing query, keyed by (exclusive, bounded above).

    ``template`` holds ``{range}`` where the key conditions go; the lower bound binds to
    ``:lower`` and the upper to ``:upper``.
    """
    variants: dict[tuple[bool, bool], str] = {}
    for exclusive in (False, True):
        for bounded in (False, True):
            condition = f"{column} {'>' if exclusive else '>='} :lower"
            if bounded:
                condition += f" AND {column} < :upper"
            variants[(exclusive, bounded)] = template.format(range=condition)
    return variants
