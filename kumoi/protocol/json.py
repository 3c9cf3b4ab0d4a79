"""The AWS JSON protocols (awsJson1_0 and awsJson1_1): ``X-Amz-Target`` names the operation.

A request is ``POST /`` with ``Content-Type: application/x-amz-json-1.0`` (or ``1.1``),
``X-Amz-Target: {targetPrefix}.{Operation}`` and the input structure as a JSON object. Output is
the output structure as JSON: timestamps as epoch seconds, blobs base64, non-finite floats as the
strings ``NaN``/``Infinity``/``-Infinity``. Errors are ``{"__type": ..., "message": ...}``.

Services that moved from the query protocol to JSON carry the ``awsQueryCompatible`` trait
(SQS). Their errors also carry ``x-amzn-query-error: {legacy code};{Sender|Receiver}``: botocore
then reports the legacy code as ``Error.Code`` (what query-era code compares against) and raises
the modelled exception class found from ``__type`` (kept as ``Error.QueryErrorCode``).

Plans are compiled once per operation, at its first use: a decoder that type-checks and
converts the JSON values of the input shape, and an encoder for the output shape. Encoders of
shapes that need no conversion (only strings, numbers, booleans, lists and maps of them, no
renamed members) are ``None``, so such outputs go straight to ``json.dumps``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse
from kumoi.core.streams import MAX_DOCUMENT_BODY, BodyTooLarge
from kumoi.protocol.base import DecodedRequest, ServiceCodec
from kumoi.protocol.shapes import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    ISO8601,
    UNIX_TIMESTAMP,
    ErrorInfo,
    InvalidValue,
    MalformedBody,
    check_integer_range,
    coral_missing_message,
    coral_name,
    decode_base64,
    document_of,
    encode_base64,
    epoch_number,
    error_table,
    format_float,
    format_timestamp,
    from_epoch,
    parse_timestamp,
    read_document,
    resolve_error,
    timestamp_format,
)
from kumoi.protocol.spec import ServiceModel, Shape

JSON_CONTENT_TYPES = frozenset({"application/x-amz-json-1.0", "application/x-amz-json-1.1"})

#: The ``__type`` AWS's JSON services give the framework errors that no service models.
_FRAMEWORK_TYPES = {
    "UnknownOperationException": "com.amazon.coral.service#UnknownOperationException",
    "SerializationException": "com.amazon.coral.service#SerializationException",
    "ValidationException": "com.amazon.coral.validate#ValidationException",
}
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: ``json.dumps(..., separators=(",", ":"))`` without building an encoder per call, nor keeping
#: the set of containers seen that finds cycles: outputs are trees (a cycle would be a bug, and
#: end as a RecursionError, an internal error, instead of a ValueError, an internal error).
_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
#: What ``json.loads`` decodes text with.
_decode = json.JSONDecoder().decode

Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]


class _Missing(Exception):
    def __init__(self, paths: list[str]) -> None:
        super().__init__(", ".join(paths))
        self.paths = paths


class JsonCodec(ServiceCodec):
    """Decodes and encodes one awsJson service, compiled from its model."""

    protocol = "json"

    def __init__(self, model: ServiceModel) -> None:
        metadata = model.metadata
        self._content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"
        self._query_compatible = "awsQueryCompatible" in metadata
        self._namespace = f"com.amazonaws.{metadata.get('endpointPrefix', model.service_name)}"
        self._errors: dict[str, ErrorInfo] = error_table(model)
        self._model = model
        self._compiler = _Compiler()
        prefix = metadata.get("targetPrefix", "")
        self._targets = {f"{prefix}.{name}": name for name in model.operation_names}
        self._plans: dict[str, tuple[Decoder | None, Encoder | None]] = {}

    def _plan(self, name: str) -> tuple[Decoder | None, Encoder | None]:
        """The decoder and encoder of operation ``name``, compiled at its first use."""
        plan = self._plans.get(name)
        if plan is None:
            op = self._model.operation_model(name)
            decoder = self._compiler.decoder(op.input_shape) if op.input_shape is not None else None
            encoder = self._compiler.encoder(op.output_shape) if op.output_shape is not None else None
            plan = self._plans[name] = (decoder, encoder)
        return plan

    # --- requests -------------------------------------------------------------------------------

    async def decode(self, request: HttpRequest) -> DecodedRequest:
        target = request.headers.get("x-amz-target") or ""
        operation = self._targets.get(target)
        content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if request.method != "POST" or operation is None or content_type not in JSON_CONTENT_TYPES:
            raise ServiceError("UnknownOperationException", "")
        try:
            body = document_of(request, MAX_DOCUMENT_BODY)
            if body is None:
                body = await read_document(request, MAX_DOCUMENT_BODY)
        except BodyTooLarge as exc:
            raise ServiceError(
                "RequestEntityTooLarge", f"Request body must be at most {exc.limit} bytes.", status=413
            ) from None
        except MalformedBody as exc:
            raise ServiceError("SerializationException", str(exc)) from None
        document = _load(body)
        decoder = self._plan(operation)[0]
        if decoder is None:
            return DecodedRequest(operation, {})
        try:
            params: dict[str, Any] = decoder(document, "")
        except InvalidValue as exc:
            where = f" at '{exc.path}'" if exc.path else ""
            raise ServiceError("SerializationException", f"{exc.reason}{where}") from None
        except _Missing as exc:
            raise ServiceError("ValidationException", coral_missing_message(exc.paths)) from None
        return DecodedRequest(operation, params)

    # --- responses ------------------------------------------------------------------------------

    def encode(self, operation: str, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        encoder = self._plan(operation)[1]
        document = encoder(output) if encoder is not None else output
        return self._response(200, _dumps(document).encode(), request_id)

    def encode_error(
        self, error: ServiceError, request_id: str, operation: str | None = None
    ) -> HttpResponse:
        wire = resolve_error(error, self._errors)
        if wire.shape in self._errors:
            type_code = wire.shape if self._query_compatible else wire.code
            error_type = f"{self._namespace}#{type_code}"
        else:
            error_type = _FRAMEWORK_TYPES.get(wire.code, wire.code)
        document: dict[str, Any] = {"__type": error_type}
        if wire.message:
            document["message"] = wire.message
        document.update(error.fields)
        response = self._response(wire.status, _dumps(document).encode(), request_id)
        if self._query_compatible:
            fault = "Sender" if wire.sender_fault else "Receiver"
            response.headers.append(("x-amzn-query-error", f"{wire.code};{fault}"))
        response.headers.extend(error.headers.items())
        return response

    def _response(self, status: int, body: bytes, request_id: str) -> HttpResponse:
        return HttpResponse(
            status=status,
            headers=[("content-type", self._content_type), ("x-amzn-requestid", request_id)],
            body=body,
            content_length=len(body),
        )


def _load(body: bytes) -> Any:
    if not body or body.isspace():  # what ``not body.strip()`` tells, without copying the body
        return {}
    utf8 = body[:1] == b"{" and body[1:2] != b"\0"
    try:
        # For UTF-8, what ``json.loads`` does with these bytes (its encoding detection says UTF-8
        # for any document starting with ``{`` and then no NUL), without its type dispatch.
        document = _decode(body.decode("utf-8", "surrogatepass")) if utf8 else json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON, bad UTF-8 and integers beyond Python's digit limit.
        raise ServiceError("SerializationException", "The request body is not valid JSON.") from None
    if (not utf8 or _MAY_HOLD_SURROGATES(body) is not None) and _holds_lone_surrogate(document):
        raise ServiceError("SerializationException", "The request body holds text that is not valid Unicode.")
    return document


#: Where a lone surrogate can come from in a UTF-8 body: a ``\uD800``-``\uDFFF`` escape (SDKs
#: write astral characters as valid pairs of them) or its UTF-8 form, which ``surrogatepass`` lets
#: through. Bodies in other encodings (rare) are searched whole.
_MAY_HOLD_SURROGATES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]").search


def _holds_lone_surrogate(value: Any) -> bool:
    """Whether a string of the document (a key or a value) holds an unpaired surrogate, which no
    UTF-8 can carry: such text cannot be stored or sent on, so the request is refused whole."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(key) or _holds_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


# --- compiled decoders and encoders -----------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "BOOLEAN_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, list):
        return "Start of list"
    return "Start of structure or map"


def _wrong(value: Any, expected: str, path: str) -> InvalidValue:
    return InvalidValue(f"{_kind(value)} can not be converted to {expected}", path)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Compiler:
    def __init__(self) -> None:
        self._decoders: dict[str, Decoder] = {}
        self._encoders: dict[str, list[Encoder | None]] = {}

    # decoders: (JSON value, path) -> value

    def decoder(self, shape: Shape) -> Decoder:
        kind = shape.type_name
        if kind == "structure":
            if getattr(shape, "is_document_type", False):
                return lambda value, path: value
            return self._struct_decoder(shape)
        if kind == "list":
            return self._list_decoder(shape)
        if kind == "map":
            return self._map_decoder(shape)
        return _scalar_decoder(shape)

    def _struct_decoder(self, shape: Shape) -> Decoder:
        cached = self._decoders.get(shape.name)
        if cached is not None:
            return cached
        # (name, wire key, decoder, whether the member is a plain string: checked inline)
        members: list[tuple[str, str, Decoder, bool]] = []
        by_key: dict[str, tuple[str, Decoder, bool]] = {}
        required = list(shape.required_members)
        required_names = frozenset(required)

        def in_model_order(value: dict[str, Any], path: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, key, member_decoder, plain in members:
                item = value.get(key)
                if item is not None:
                    out[name] = (
                        item if plain and type(item) is str else member_decoder(item, _join(path, key))
                    )
            return out

        def decode(value: Any, path: str) -> dict[str, Any]:
            if type(value) is not dict:
                raise _wrong(value, "a structure", path)
            if value.keys() <= plain_keys:
                # Only string members under their own names were sent: if every value is a
                # string, the decoded structure is what was sent (a dict nobody else holds).
                for item in value.values():
                    if type(item) is not str:
                        break
                else:
                    if required and not required_names <= value.keys():
                        raise _Missing(
                            [_join(path, coral_name(name)) for name in required if name not in value]
                        )
                    return value
            # Walk what was sent (usually far fewer keys than the shape has members); if a value
            # is bad, decode again in the model's member order so the error reported is the same.
            out: dict[str, Any] = {}
            try:
                for key, item in value.items():
                    member = by_key.get(key)
                    if member is None or item is None:
                        continue
                    name, member_decoder, plain = member
                    out[name] = (
                        item if plain and type(item) is str else member_decoder(item, _join(path, key))
                    )
            except (InvalidValue, _Missing):
                out = in_model_order(value, path)
            if required and not required_names <= out.keys():
                raise _Missing([_join(path, coral_name(name)) for name in required if name not in out])
            return out

        self._decoders[shape.name] = decode
        for name, member in shape.members.items():
            member_decoder = self.decoder(member)
            key = str(member.serialization.get("name", name))
            members.append((name, key, member_decoder, member_decoder is _string))
            by_key[key] = (name, member_decoder, member_decoder is _string)
        plain_keys = frozenset(key for name, key, _decoder, plain in members if plain and key == name)
        return decode

    def _list_decoder(self, shape: Shape) -> Decoder:
        item = self.decoder(shape.member)
        plain = item is _string

        def with_paths(value: list[Any], path: str) -> list[Any]:
            out = []
            for index, element in enumerate(value):
                if element is None:
                    raise InvalidValue("null can not be a list member", f"{path}.{index + 1}")
                out.append(item(element, f"{path}.{index + 1}"))
            return out

        def decode(value: Any, path: str) -> list[Any]:
            if type(value) is not list:
                raise _wrong(value, "a list", path)
            if plain and all(type(element) is str for element in value):
                return list(value)
            # Members' paths only name where a value is wrong: build them only then, by
            # decoding again (decoders have no side effects, so the error is the same).
            try:
                if None not in value:
                    return [item(element, path) for element in value]
            except (InvalidValue, _Missing):
                pass
            return with_paths(value, path)

        return decode

    def _map_decoder(self, shape: Shape) -> Decoder:
        value_decoder = self.decoder(shape.value)

        def decode(value: Any, path: str) -> dict[str, Any]:
            if type(value) is not dict:
                raise _wrong(value, "a map", path)
            return {
                key: value_decoder(item, _join(path, key)) for key, item in value.items() if item is not None
            }

        return decode

    # encoders: value -> JSON value; None means "the value is already what JSON needs"

    def encoder(self, shape: Shape) -> Encoder | None:
        kind = shape.type_name
        if kind == "structure":
            if getattr(shape, "is_document_type", False):
                return None
            return self._struct_encoder(shape)
        if kind == "list":
            item = self.encoder(shape.member)
            if item is None:
                return None
            return lambda value: [item(element) for element in value]
        if kind == "map":
            converter = self.encoder(shape.value)
            if converter is None:
                return None
            return lambda value: {key: converter(element) for key, element in value.items()}
        return _scalar_encoder(shape)

    def _struct_encoder(self, shape: Shape) -> Encoder | None:
        known = self._encoders.get(shape.name)
        if known is not None:
            # A recursive reference: decided by the outer compilation, so call through the cell.
            return lambda value: _call(known, value)
        cell: list[Encoder | None] = [None]
        self._encoders[shape.name] = cell
        members: list[tuple[str, str, Encoder | None]] = []
        for name, member in shape.members.items():
            members.append((name, str(member.serialization.get("name", name)), self.encoder(member)))
        if all(encoder is None and key == name for name, key, encoder in members):
            return None

        def encode(value: Mapping[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, key, member_encoder in members:
                item = value.get(name)
                if item is not None:
                    out[key] = member_encoder(item) if member_encoder is not None else item
            return out

        cell[0] = encode
        return encode


def _call(cell: list[Encoder | None], value: Any) -> Any:
    encoder = cell[0]
    return encoder(value) if encoder is not None else value


def _scalar_decoder(shape: Shape) -> Decoder:
    kind = shape.type_name
    if kind in ("string", "character"):
        return _string
    if kind == "boolean":
        return _boolean
    if kind in ("integer", "long"):
        low, high = (INT32_MIN, INT32_MAX) if kind == "integer" else (INT64_MIN, INT64_MAX)
        expected = "an Integer" if kind == "integer" else "a Long"

        def integer(value: Any, path: str) -> int:
            if type(value) is not int:
                raise _wrong(value, expected, path)
            try:
                check_integer_range(value, low, high)
            except InvalidValue as exc:
                raise InvalidValue(exc.reason, path) from None
            return value

        return integer
    if kind in ("float", "double"):
        return _number
    if kind == "timestamp":
        fmt = timestamp_format(shape, UNIX_TIMESTAMP)

        def timestamp(value: Any, path: str) -> Any:
            try:
                if type(value) in (int, float):
                    return from_epoch(float(value))
                if type(value) is str:
                    return parse_timestamp(value, ISO8601 if fmt == UNIX_TIMESTAMP else fmt)
            except InvalidValue as exc:
                raise InvalidValue(exc.reason, path) from None
            raise _wrong(value, "a Timestamp", path)

        return timestamp
    if kind == "blob":

        def blob(value: Any, path: str) -> bytes:
            if type(value) is not str:
                raise _wrong(value, "a Blob", path)
            try:
                return decode_base64(value)
            except InvalidValue as exc:
                raise InvalidValue(exc.reason, path) from None

        return blob
    return _string


def _string(value: Any, path: str) -> str:
    if type(value) is not str:
        raise _wrong(value, "a String", path)
    return value


def _boolean(value: Any, path: str) -> bool:
    if type(value) is not bool:
        raise _wrong(value, "a Boolean", path)
    return value


def _number(value: Any, path: str) -> float:
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
        if math.isfinite(number):
            return number
    elif kind is str and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise _wrong(value, "a Double", path)


def _scalar_encoder(shape: Shape) -> Encoder | None:
    kind = shape.type_name
    if kind == "timestamp":
        fmt = timestamp_format(shape, UNIX_TIMESTAMP)
        if fmt == UNIX_TIMESTAMP:
            return epoch_number
        return lambda value: format_timestamp(value, fmt)
    if kind == "blob":
        return encode_base64
    if kind in ("float", "double"):
        return lambda value: format_float(float(value))
    return None
