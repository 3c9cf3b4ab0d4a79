"""Protocol-neutral helpers for model shapes: scalar conversions, request documents, modelled errors.

Every codec converts the same few scalar types between wire text and the value types of
:mod:`kumoi.protocol.base`; the functions here do it once, strictly, and raise
:class:`InvalidValue` (never another exception) on hostile input, so that each codec can turn it
into its own error code (``InvalidParameterValue`` for query, ``SerializationException`` for json).

Modelled errors: providers raise :class:`~kumoi.core.errors.ServiceError` with the error *shape
name*; :func:`error_table` reads each error shape's ``error`` trait once (wire code, HTTP status,
fault) and :func:`resolve_error` applies it to an error at encode time.
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest
from kumoi.core.streams import BodyTooLarge, read_limited
from kumoi.protocol.spec import ServiceModel, Shape

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Longest decimal text accepted for an integer (a 64-bit value has at most 20 characters).
MAX_INTEGER_DIGITS = 20

ISO8601 = "iso8601"
UNIX_TIMESTAMP = "unixtimestamp"
RFC822 = "rfc822"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class InvalidValue(Exception):
    """A request value that cannot be converted to its shape's type."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class MalformedBody(Exception):
    """A request body that cannot be read as a document (bad content encoding)."""


# --- scalars from text ------------------------------------------------------------------------


def parse_boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise InvalidValue(f"{text!r} is not a boolean")


def parse_integer(text: str, low: int, high: int) -> int:
    """Parse a decimal integer within ``[low, high]``."""
    if len(text) > MAX_INTEGER_DIGITS:
        raise InvalidValue(f"{text[:MAX_INTEGER_DIGITS]}... is out of range")
    try:
        value = int(text)
    except ValueError:
        raise InvalidValue(f"{text!r} is not an integer") from None
    check_integer_range(value, low, high)
    return value


def check_integer_range(value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidValue(f"{value} is out of range")


def parse_float(text: str) -> float:
    special = _NON_FINITE.get(text)
    if special is not None:
        return special
    try:
        value = float(text)
    except ValueError:
        raise InvalidValue(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidValue(f"{text!r} is out of range")
    return value


def format_float(value: float) -> str | float:
    """A float as its wire form: itself when finite, else AWS's ``NaN``/``Infinity`` strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_base64(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidValue("invalid base64 text") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- timestamps --------------------------------------------------------------------------------


def timestamp_format(shape: Shape, default: str) -> str:
    """The ``timestampFormat`` of a (member) shape, lower-cased, or the protocol's default."""
    fmt = shape.serialization.get("timestampFormat")
    return str(fmt).lower() if fmt else default


def parse_timestamp(text: str, fmt: str) -> datetime:
    """Parse wire text in ``fmt`` into an aware UTC datetime."""
    try:
        if fmt == UNIX_TIMESTAMP:
            return from_epoch(float(text))
        parsed = parsedate_to_datetime(text) if fmt == RFC822 else datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, TypeError, IndexError, OverflowError):
        # OverflowError: a moment at the edge of the calendar that UTC moves past year 1 or 9999.
        raise InvalidValue(f"{text!r} is not a valid timestamp") from None


def from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise InvalidValue(f"{seconds!r} is not a valid timestamp")
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise InvalidValue(f"{seconds!r} is out of range") from None


def to_epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - _EPOCH).total_seconds()
    return float(value)


def epoch_number(value: datetime | float) -> int | float:
    """Epoch seconds as JSON wants them: an integer when whole, else milliseconds precision."""
    seconds = to_epoch(value)
    whole = int(seconds)
    return whole if whole == seconds else round(seconds, 3)


def format_timestamp(value: datetime | float, fmt: str) -> str:
    """A timestamp as wire text: ISO 8601 (``2014-04-29T18:30:38.123Z``), epoch or RFC 822."""
    if fmt == UNIX_TIMESTAMP:
        return str(epoch_number(value))
    moment = value if isinstance(value, datetime) else from_epoch(float(value))
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if fmt == RFC822:
        return format_datetime(moment, usegmt=True)
    millis = moment.microsecond // 1000
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


# --- request documents -------------------------------------------------------------------------


async def read_document(request: HttpRequest, limit: int) -> bytes:
    """Read a whole (small) request document, undoing ``Content-Encoding: gzip``.

    SDKs compress request documents for operations with the ``requestcompression`` trait. The
    decompressed size is bounded by ``limit`` too, so a small bomb cannot expand without end.
    Raises :class:`BodyTooLarge` or :class:`MalformedBody`.
    """
    body = document_of(request, limit)
    if body is None:
        body = _decoded(request, await read_limited(request.body, limit), limit)
    return body


def document_of(request: HttpRequest, limit: int) -> bytes | None:
    """:func:`read_document` without waiting, where a layer has read the body already
    (``request.document``); else ``None``."""
    body = request.document
    if body is None:
        return None
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return _decoded(request, body, limit)


def _decoded(request: HttpRequest, body: bytes, limit: int) -> bytes:
    encoding = request.headers.get("content-encoding")
    if encoding is None:
        return body
    encoding = encoding.strip().lower()
    if not encoding or encoding == "identity":
        return body
    codings = [part.strip() for part in encoding.split(",") if part.strip()]
    for coding in reversed(codings):
        if coding == "gzip":
            body = _gunzip(body, limit)
        elif coding != "identity":
            raise MalformedBody(f"unsupported content encoding {coding!r}")
    return body


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise MalformedBody("the gzip body is corrupt") from None
    if len(out) > limit:
        raise BodyTooLarge(limit)
    if not inflater.eof:
        raise MalformedBody("the gzip body is truncated")
    return out


# --- modelled errors ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What the model says about an error shape: its wire code, HTTP status and fault."""

    code: str
    status: int | None
    sender_fault: bool | None


def error_table(model: ServiceModel) -> dict[str, ErrorInfo]:
    """Every exception shape of ``model`` by shape name."""
    table: dict[str, ErrorInfo] = {}
    for name in model.shape_names:
        shape = model.shape_for(name)
        if not shape.metadata.get("exception"):
            continue
        trait: dict[str, Any] = shape.metadata.get("error") or {}
        status = trait.get("httpStatusCode")
        fault = trait.get("senderFault")
        table[name] = ErrorInfo(
            code=str(trait.get("code") or name),
            status=int(status) if status is not None else None,
            sender_fault=bool(fault) if fault is not None else None,
        )
    return table


@dataclass(frozen=True, slots=True)
class WireError:
    """An error as a protocol writes it."""

    shape: str  # the code the provider raised (the modelled shape name, or a common code)
    code: str  # the code on the wire (the model's legacy ``error.code`` when there is one)
    status: int
    sender_fault: bool
    message: str


def resolve_error(error: ServiceError, table: dict[str, ErrorInfo]) -> WireError:
    """Apply the model to ``error``: legacy code, and the model's status unless one was chosen."""
    info = table.get(error.code)
    status = error.status
    sender_fault = error.sender_fault
    code = error.code
    if info is not None:
        code = info.code
        if status == 400 and info.status is not None:
            status = info.status
        if info.sender_fault is False:
            sender_fault = False
    return WireError(error.code, code, status, sender_fault and status < 500, error.message)


def coral_name(member: str) -> str:
    """A member as AWS's validation messages name it (``RoleArn`` → ``roleArn``)."""
    return member[:1].lower() + member[1:]


def coral_missing_message(paths: list[str]) -> str:
    """AWS's message for missing required members, e.g. ``1 validation error detected: ...``."""
    details = "; ".join(
        f"Value null at '{path}' failed to satisfy constraint: Member must not be null" for path in paths
    )
    plural = "error" if len(paths) == 1 else "errors"
    return f"{len(paths)} validation {plural} detected: {details}"
