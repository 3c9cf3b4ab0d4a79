"""IAM wildcards: ``*`` matches any run of characters, ``?`` exactly one; nothing else is special.

Patterns are turned into anchored regular expressions once and cached, so matching a request
costs one ``re.fullmatch``. Actions match case-insensitively (``s3:getobject`` is
``s3:GetObject``); resources and condition values case-sensitively.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Distinct patterns kept compiled (policies of a large account fit comfortably).
PATTERN_CACHE = 16384


@lru_cache(maxsize=PATTERN_CACHE)
def compile_glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return compile_glob(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """``ArnLike``: the six colon-separated parts match one by one (the resource part may hold
    colons itself), so a ``*`` in the service part never swallows the region."""
    if pattern == "*":
        return True
    want = pattern.split(":", 5)
    have = value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(want, have, strict=True))
