"""Text forms of scalar values in REST protocols: URI, query string, headers and XML text.

Every conversion here is a small function chosen once per member when a codec is compiled, so a
request pays for one call per value and no type dispatch. Parsers raise :class:`ValueError` on bad
text; the codec turns that into the protocol's error, naming the offending member.

Timestamps follow the AWS defaults per location (headers: RFC 7231 IMF-fixdate; query, URI and
XML: ISO 8601) unless the model sets ``timestampFormat``. Readers accept every common form
(ISO 8601, the three HTTP date forms, epoch seconds) because clients disagree in practice.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote_to_bytes

Parse = Callable[[str], Any]
Format = Callable[[Any], str]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_EPOCH = re.compile(r"-?\d+(\.\d+)?")


class UriError(ValueError):
    """A URI component is not valid percent-encoded UTF-8."""


# --- URI components ------------------------------------------------------------------------------


def _raw_bytes(text: str) -> bytes:
    # The HTTP edge hands over the request target decoded as latin-1 (one char per byte); a caller
    # that already decoded it as UTF-8 gives characters beyond latin-1, which we re-encode as such.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def percent_decode(text: str) -> str:
    """Strictly decode a percent-encoded URI component; ``+`` stays a plus.

    Raises :class:`UriError` for a ``%`` not followed by two hex digits or for bytes that are not
    UTF-8.
    """
    if text.isascii() and "%" not in text:
        return text
    if _BAD_ESCAPE.search(text):
        raise UriError(text)
    try:
        return unquote_to_bytes(_raw_bytes(text)).decode("utf-8")
    except UnicodeDecodeError:
        raise UriError(text) from None


def form_decode(text: str) -> str:
    """Decode a query-string key or value: like :func:`percent_decode`, with ``+`` as a space."""
    if "+" in text:
        text = text.replace("+", " ")
    return percent_decode(text)


def parse_query(query: str) -> dict[str, list[str]]:
    """Split a raw query string into decoded keys and their values, in order of appearance.

    ``?uploads`` (no ``=``) gives the value ``""``. Raises :class:`UriError` on bad encoding.
    """
    params: dict[str, list[str]] = {}
    if not query:
        return params
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        # Inline fast path of form_decode: most names and values need no decoding at all.
        if "%" in key or "+" in key or not key.isascii():
            key = form_decode(key)
        if "%" in value or "+" in value or not value.isascii():
            value = form_decode(value)
        values = params.get(key)
        if values is None:
            params[key] = [value]
        else:
            values.append(value)
    return params


# --- header text -----------------------------------------------------------------------------------


def header_text(value: str) -> str:
    """A header value as the client meant it: UTF-8 bytes arrive as latin-1 characters."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header list (RFC 9110 §5.6.1), honouring double-quoted items."""
    if '"' not in value:
        return [item.strip() for item in value.split(",")] if value else []
    items: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def split_date_list(value: str) -> list[str]:
    """Split a header list of timestamps, where HTTP dates contain a comma after the weekday."""
    items: list[str] = []
    for piece in value.split(","):
        stripped = piece.strip()
        if items and items[-1] in _DAYS:
            items[-1] = f"{items[-1]}, {stripped}"
        elif stripped:
            items.append(stripped)
    return items


def format_header_list(items: list[str]) -> str:
    return ", ".join(f'"{item}"' if ("," in item or '"' in item) else item for item in items)


# --- scalars -----------------------------------------------------------------------------------------


def parse_integer(text: str) -> int:
    stripped = text.strip()
    if not stripped or not stripped.lstrip("+-").isdigit() or not stripped.isascii():
        raise ValueError(text)
    return int(stripped)


def parse_float(text: str) -> float:
    stripped = text.strip()
    if stripped in ("NaN", "Infinity", "-Infinity"):
        return float(stripped)
    if not stripped or stripped.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError(text)
    return float(stripped)


def parse_boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(text)


def parse_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ValueError(text) from None


def parse_json_value(text: str) -> Any:
    """A ``jsonvalue`` header: base64-encoded JSON."""
    try:
        return json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise ValueError(text) from None


def format_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def format_boolean(value: bool) -> str:
    return "true" if value else "false"


def format_blob(value: bytes | str) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def format_json_value(value: Any) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8")).decode("ascii")


# --- timestamps --------------------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """Parse any timestamp form AWS clients send into an aware UTC datetime; ``ValueError`` if it
    is none, or names a moment no datetime holds (year 10,000, 10^20 epoch seconds)."""
    try:
        return _parse_timestamp(text)
    except OverflowError:
        raise ValueError(text) from None


def _parse_timestamp(text: str) -> datetime:
    stripped = text.strip()
    if _EPOCH.fullmatch(stripped):
        return datetime.fromtimestamp(float(stripped), UTC)
    if stripped[:4].isdigit():
        try:
            parsed = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(text) from None
    else:
        try:
            parsed = parsedate_to_datetime(stripped)
        except (TypeError, ValueError, IndexError):
            raise ValueError(text) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_datetime(value: datetime | float | int) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)


#: Text after the seconds of an ISO 8601 timestamp, by its milliseconds: ``.617Z``.
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))
#: The last second of the year 9999: datetime (and ISO 8601's four digits) end there, and a
#: value within it may round up past it.
_LAST_SECOND = 253_402_300_799


def seconds_text(seconds: int) -> str:
    """``2009-10-12T17:50:30``: whole seconds since the epoch, in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def format_iso8601(value: datetime | float | int) -> str:
    """``2009-10-12T17:50:30.000Z``: millisecond precision, as S3 writes it. Seconds since the
    epoch (the stored form) are formatted without building a datetime."""
    if (type(value) is float or type(value) is int) and 0 <= value < _LAST_SECOND:
        # Rounded to the microsecond first, half to even, as datetime.fromtimestamp does: 1.9 is
        # 1.8999... as a float, and must say .900.
        seconds = int(value)
        micros = round((value - seconds) * 1_000_000)
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        return seconds_text(seconds) + _MILLIS[micros // 1000]
    dt = _as_datetime(value)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f".{dt.microsecond // 1000:03d}Z"
    )


def format_http_date(value: datetime | float | int) -> str:
    """RFC 7231 IMF-fixdate: ``Mon, 12 Oct 2009 17:50:30 GMT``."""
    dt = _as_datetime(value)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def format_epoch(value: datetime | float | int) -> str:
    seconds = _as_datetime(value).timestamp()
    return str(int(seconds)) if seconds == int(seconds) else repr(round(seconds, 6))


TIMESTAMP_FORMATTERS: dict[str, Format] = {
    "iso8601": format_iso8601,
    "rfc822": format_http_date,
    "unixTimestamp": format_epoch,
}


def scalar_parser(type_name: str, json_value: bool = False) -> Parse:
    """The text parser of a scalar model type (``string`` gives the identity)."""
    if type_name in ("integer", "long", "short", "byte"):
        return parse_integer
    if type_name in ("float", "double"):
        return parse_float
    if type_name == "boolean":
        return parse_boolean
    if type_name == "timestamp":
        return parse_timestamp
    if type_name == "blob":
        return parse_blob
    if json_value:
        return parse_json_value
    return str


def scalar_formatter(type_name: str, timestamp_format: str, json_value: bool = False) -> Format:
    """The text formatter of a scalar model type; ``timestamp_format`` applies to timestamps."""
    if type_name in ("integer", "long", "short", "byte"):
        return _format_int
    if type_name in ("float", "double"):
        return format_float
    if type_name == "boolean":
        return format_boolean
    if type_name == "timestamp":
        return TIMESTAMP_FORMATTERS[timestamp_format]
    if type_name == "blob":
        return format_blob
    if json_value:
        return format_json_value
    return str


def _format_int(value: int) -> str:
    return str(int(value))
