"""The AWS query protocol (IAM, STS, SNS, and SQS for older SDKs): form parameters in, XML out.

A request is ``Action=...&Version=...`` plus the input members flattened into dotted names,
either in an ``application/x-www-form-urlencoded`` POST body or in a GET query string:
structures as ``A.B``, lists as ``A.member.N`` (or ``A.N`` when flattened, with the member's
``locationName`` replacing the last name), maps as ``A.entry.N.key``/``.value`` (custom key and
value names, or no ``entry`` when flattened), booleans ``true``/``false``, timestamps ISO 8601,
blobs base64. ``A=`` (empty) is an empty list.

Decoding first turns the parameters into a tree keyed by name segment, then runs the operation's
compiled decoder over it: every structure, list and map of the operation's input became a
closure when the operation was first called, so a request never walks the model. Encoding works
the same way: each output shape is compiled into a writer that appends XML fragments, and each
operation's envelope (``<{Op}Response xmlns=..><{Op}Result>`` ... ``<ResponseMetadata>``) is
precomputed. Compiling each operation at its first use (a fraction of a millisecond) rather than
all of them at start-up keeps IAM's 176 operations out of the server's start-up time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

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
    ErrorInfo,
    InvalidValue,
    MalformedBody,
    coral_missing_message,
    coral_name,
    decode_base64,
    document_of,
    encode_base64,
    error_table,
    format_float,
    format_timestamp,
    parse_boolean,
    parse_float,
    parse_integer,
    parse_timestamp,
    read_document,
    resolve_error,
    timestamp_format,
)
from kumoi.protocol.spec import ServiceModel, Shape
from kumoi.protocol.xml import error_text, escape_attr, escape_text

#: Most parameters one request may carry (a full SQS/SNS batch needs a few hundred).
MAX_PARAMETERS = 10_000
#: Longest list index accepted (``member.N``).
MAX_INDEX_DIGITS = 6
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
XML_CONTENT_TYPE = "text/xml"

#: Services whose query API validates input the Coral way: missing members give
#: ``ValidationError`` "1 validation error detected: Value null at 'roleArn' ..." (IAM, STS).
#: Older query services (SNS, SQS, ...) answer ``MissingParameter`` naming the parameter.
_CORAL_VALIDATION = frozenset({"IAM", "STS"})

Node = str | dict[str, Any]
Decoder = Callable[[Node, str], Any]
Writer = Callable[[Any, list[str]], None]


class _Missing(Exception):
    """Required members absent: ``wire`` are parameter names, ``coral`` the camel-case paths."""

    def __init__(self, wire: list[str], coral: list[str]) -> None:
        super().__init__(", ".join(wire))
        self.wire = wire
        self.coral = coral


class _Operation:
    """An operation's compiled plan: input decoder, output writer and the response envelope."""

    __slots__ = ("decoder", "prefix", "suffix_tail", "writer")

    def __init__(self, decoder: Decoder | None, writer: Writer | None, prefix: str, suffix_tail: str) -> None:
        self.decoder = decoder
        self.writer = writer
        self.prefix = prefix
        self.suffix_tail = suffix_tail


class QueryCodec(ServiceCodec):
    """Decodes query requests and encodes XML responses of one service, compiled from its model."""

    protocol = "query"

    def __init__(self, model: ServiceModel) -> None:
        namespace: str = model.metadata.get("xmlNamespace", "")
        self._coral = model.metadata.get("serviceId") in _CORAL_VALIDATION
        self._errors: dict[str, ErrorInfo] = error_table(model)
        self._model = model
        self._compiler = _Compiler()
        self._ns_attr = ns_attr = f' xmlns="{escape_attr(namespace)}"' if namespace else ""
        self._names = frozenset(model.operation_names)
        self._operations: dict[str, _Operation] = {}
        self._error_head = f"<ErrorResponse{ns_attr}><Error><Type>"

    def _operation(self, name: str) -> _Operation:
        """The plan of operation ``name``, compiled at its first use."""
        found = self._operations.get(name)
        if found is None:
            found = self._operations[name] = self._compile(name)
        return found

    def _compile(self, name: str) -> _Operation:
        op = self._model.operation_model(name)
        decoder = self._compiler.decoder(op.input_shape) if op.input_shape is not None else None
        writer = None
        prefix = f"<{name}Response{self._ns_attr}>"
        middle = ""
        output = op.output_shape
        if output is not None:
            writer = self._compiler.struct_body(output) if output.members else None
            wrapper = output.serialization.get("resultWrapper")
            if wrapper:
                prefix += f"<{wrapper}>"
                middle = f"</{wrapper}>"
        return _Operation(decoder, writer, prefix, f"{middle}<ResponseMetadata><RequestId>")

    # --- requests -------------------------------------------------------------------------------

    async def decode(self, request: HttpRequest) -> DecodedRequest:
        pairs = _parse_pairs(request.query_string)
        if request.method == "POST" and _is_form(request.headers.get("content-type")):
            try:
                raw = document_of(request, MAX_DOCUMENT_BODY)
                if raw is None:
                    raw = await read_document(request, MAX_DOCUMENT_BODY)
            except BodyTooLarge as exc:
                raise ServiceError(
                    "RequestEntityTooLarge", f"Request body must be at most {exc.limit} bytes.", status=413
                ) from None
            except MalformedBody as exc:
                raise ServiceError("MalformedQueryString", str(exc)) from None
            pairs.extend(_parse_pairs(_form_text(raw)))
        tree = _build_tree(pairs)
        action = tree.pop("Action", None)
        version = tree.pop("Version", None)
        if action is None or action == "":
            raise ServiceError("MissingAction", "Missing Action")
        if not isinstance(action, str) or action not in self._names:
            shown = action if isinstance(action, str) else "?"
            raise ServiceError(
                "InvalidAction", f"Could not find operation {shown} for version {version or 'NO_VERSION'}"
            )
        operation = self._operation(action)
        if operation.decoder is None:
            return DecodedRequest(action, {})
        try:
            params: dict[str, Any] = operation.decoder(tree, "")
        except InvalidValue as exc:
            raise ServiceError(
                "InvalidParameterValue", f"Value for parameter {exc.path} is invalid. Reason: {exc.reason}."
            ) from None
        except _Missing as exc:
            if self._coral:
                raise ServiceError("ValidationError", coral_missing_message(exc.coral)) from None
            raise ServiceError(
                "MissingParameter", f"The request must contain the parameter {exc.wire[0]}."
            ) from None
        return DecodedRequest(action, params)

    # --- responses ------------------------------------------------------------------------------

    def encode(self, operation: str, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        op = self._operation(operation)
        parts = [op.prefix]
        if op.writer is not None:
            op.writer(output, parts)
        parts.append(op.suffix_tail)
        parts.append(escape_text(request_id))
        parts.append(f"</RequestId></ResponseMetadata></{operation}Response>")
        return _xml_response(200, parts, request_id)

    def encode_error(
        self, error: ServiceError, request_id: str, operation: str | None = None
    ) -> HttpResponse:
        wire = resolve_error(error, self._errors)
        parts = [self._error_head, "Sender" if wire.sender_fault else "Receiver", "</Type><Code>"]
        parts.append(escape_text(wire.code))
        parts.append("</Code>")
        if wire.message:
            parts.append(f"<Message>{error_text(wire.message)}</Message>")
        for name, value in error.fields.items():
            parts.append(f"<{name}>{error_text(str(value))}</{name}>")
        parts.append("</Error><RequestId>")
        parts.append(escape_text(request_id))
        parts.append("</RequestId></ErrorResponse>")
        response = _xml_response(wire.status, parts, request_id)
        response.headers.extend(error.headers.items())
        return response


def _xml_response(status: int, parts: list[str], request_id: str) -> HttpResponse:
    body = "".join(parts).encode("utf-8")
    return HttpResponse(
        status=status,
        headers=[("content-type", XML_CONTENT_TYPE), ("x-amzn-requestid", request_id)],
        body=body,
        content_length=len(body),
    )


# --- parameters ---------------------------------------------------------------------------------


def _is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == FORM_CONTENT_TYPE


def _form_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError("MalformedQueryString", "The request body is not valid UTF-8.") from None


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, errors="strict")``, with the parameter limit, but
    about three times faster: only names and values holding ``+`` or ``%`` are decoded."""
    if not text:
        return []
    if text.count("&") >= MAX_PARAMETERS:
        raise ServiceError("MalformedQueryString", f"The request has more than {MAX_PARAMETERS} parameters.")
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    try:
        for piece in text.split("&"):
            if piece:
                name, _, value = piece.partition("=")
                append((_form_unquote(name), _form_unquote(value)))
    except UnicodeDecodeError:
        raise ServiceError("MalformedQueryString", "The query string is not valid UTF-8.") from None
    return pairs


def _form_unquote(text: str) -> str:
    """``unquote_plus(text, errors="strict")``. Decoding the UTF-8 of the whole text at once gives
    what ``unquote`` gives decoding each ASCII run apart: a non-ASCII character encodes to a
    complete UTF-8 sequence, so the bytes around it are valid exactly when each run's are."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    if "%3A" in text:
        # The colons of ARNs, decoded without the general loop: a ``%`` cannot start an escape
        # that ends in ``%3A`` (``%`` is no hex digit), nor one that ends in the ``:`` it gives.
        text = text.replace("%3A", ":")
        if "%" not in text:
            return text
    return unquote_to_bytes(text).decode("utf-8")


def _build_tree(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``A.B.1=x`` → ``{"A": {"B": {"1": "x"}}}``. A name given twice is refused."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        node = root
        *parents, last = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        existing = node.get(last)
        if existing is None:
            node[last] = value
        elif isinstance(existing, str):
            raise ServiceError("MalformedQueryString", f"The parameter {key} is given more than once.")
    return root


# --- compiled decoders and writers ------------------------------------------------------------


class _Compiler:
    """Turns shapes into decoders and writers once; structures are cached so recursion works."""

    def __init__(self) -> None:
        self._decoders: dict[str, Decoder] = {}
        self._bodies: dict[str, Writer] = {}
        self._attributes: dict[str, list[tuple[str, str]]] = {}

    # decoders: (tree node, parameter path) -> value

    def decoder(self, shape: Shape) -> Decoder:
        kind = shape.type_name
        if kind == "structure":
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
        members: list[tuple[str, tuple[str, ...], Decoder]] = []
        required: list[tuple[str, str]] = []

        def decode(node: Node, path: str) -> dict[str, Any]:
            if not isinstance(node, dict):
                if node == "":
                    node = {}
                else:
                    raise InvalidValue("expected a structure", path)
            out: dict[str, Any] = {}
            for name, keys, member_decoder in members:
                for key in keys:
                    child = node.get(key)
                    if child is not None:
                        out[name] = member_decoder(child, f"{path}.{key}" if path else key)
                        break
            if required:
                missing = [(key, name) for name, key in required if name not in out]
                if missing:
                    prefix = f"{path}." if path else ""
                    raise _Missing(
                        [prefix + key for key, _ in missing],
                        [prefix + coral_name(name) for _, name in missing],
                    )
            return out

        self._decoders[shape.name] = decode
        required_names = set(shape.required_members)
        for name, member in shape.members.items():
            keys = _parameter_names(name, member)
            members.append((name, keys, self.decoder(member)))
            if name in required_names:
                required.append((name, keys[0]))
        return decode

    def _list_decoder(self, shape: Shape) -> Decoder:
        item = self.decoder(shape.member)
        flattened = bool(shape.serialization.get("flattened"))
        member_key = shape.member.serialization.get("name", "member")

        def decode(node: Node, path: str) -> list[Any]:
            if isinstance(node, str):
                if node == "":
                    return []
                raise InvalidValue("expected a list", path)
            entries: Any = node
            base = path
            if not flattened:
                entries = node.get(member_key)
                base = f"{path}.{member_key}"
                if entries is None:
                    return []
                if not isinstance(entries, dict):
                    raise InvalidValue("expected a list", path)
            return [item(value, f"{base}.{index}") for index, value in _indexed(entries, base)]

        return decode

    def _map_decoder(self, shape: Shape) -> Decoder:
        key_decoder = self.decoder(shape.key)
        value_decoder = self.decoder(shape.value)
        flattened = bool(shape.serialization.get("flattened"))
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")

        def decode(node: Node, path: str) -> dict[Any, Any]:
            if isinstance(node, str):
                if node == "":
                    return {}
                raise InvalidValue("expected a map", path)
            entries: Any = node
            base = path
            if not flattened:
                entries = node.get("entry")
                base = f"{path}.entry"
                if entries is None:
                    return {}
                if not isinstance(entries, dict):
                    raise InvalidValue("expected a map", path)
            out: dict[Any, Any] = {}
            for index, entry in _indexed(entries, base):
                where = f"{base}.{index}"
                if not isinstance(entry, dict) or key_name not in entry:
                    raise InvalidValue(f"expected {key_name}", where)
                key = key_decoder(entry[key_name], f"{where}.{key_name}")
                # An empty structure or map value sends no parameters at all: read it as empty.
                out[key] = value_decoder(entry.get(value_name, ""), f"{where}.{value_name}")
            return out

        return decode

    # writers: (value, parts) -> None; struct bodies write the members, member writers the tags too

    def struct_body(self, shape: Shape) -> Writer:
        cached = self._bodies.get(shape.name)
        if cached is not None:
            return cached
        members: list[tuple[str, Writer]] = []

        def write(value: Mapping[str, Any], parts: list[str]) -> None:
            for name, member_writer in members:
                member_value = value.get(name)
                if member_value is not None:
                    member_writer(member_value, parts)

        self._bodies[shape.name] = write
        self._attributes[shape.name] = [
            (name, member.serialization.get("name", name))
            for name, member in shape.members.items()
            if member.serialization.get("xmlAttribute")
        ]
        for name, member in shape.members.items():
            if member.serialization.get("xmlAttribute") or member.serialization.get("location"):
                continue
            members.append((name, self.writer(member, _member_name(name, member))))
        return write

    def writer(self, shape: Shape, tag: str) -> Writer:
        """A writer of ``shape`` as the element(s) named ``tag``."""
        kind = shape.type_name
        open_tag = f"<{tag}{_namespace_attr(shape)}>"
        close_tag = f"</{tag}>"
        if kind == "structure":
            return self._struct_writer(shape, tag, open_tag, close_tag)
        if kind == "list":
            return self._list_writer(shape, tag, open_tag, close_tag)
        if kind == "map":
            return self._map_writer(shape, tag, open_tag, close_tag)
        text = _scalar_text(shape)

        def write_scalar(value: Any, parts: list[str]) -> None:
            parts.append(open_tag)
            parts.append(text(value))
            parts.append(close_tag)

        return write_scalar

    def _struct_writer(self, shape: Shape, tag: str, open_tag: str, close_tag: str) -> Writer:
        body = self.struct_body(shape)
        attributes = self._attributes.get(shape.name)
        if attributes:
            namespace = _namespace_attr(shape)

            def write_with_attributes(value: Mapping[str, Any], parts: list[str]) -> None:
                rendered = "".join(
                    f' {wire}="{escape_attr(str(value[name]))}"'
                    for name, wire in attributes
                    if value.get(name) is not None
                )
                parts.append(f"<{tag}{namespace}{rendered}>")
                body(value, parts)
                parts.append(close_tag)

            return write_with_attributes

        def write(value: Mapping[str, Any], parts: list[str]) -> None:
            parts.append(open_tag)
            body(value, parts)
            parts.append(close_tag)

        return write

    def _list_writer(self, shape: Shape, tag: str, open_tag: str, close_tag: str) -> Writer:
        if shape.serialization.get("flattened"):
            item = self.writer(shape.member, shape.member.serialization.get("name", tag))

            def write_flat(value: list[Any], parts: list[str]) -> None:
                for element in value:
                    item(element, parts)

            return write_flat
        item = self.writer(shape.member, shape.member.serialization.get("name", "member"))

        def write(value: list[Any], parts: list[str]) -> None:
            parts.append(open_tag)
            for element in value:
                item(element, parts)
            parts.append(close_tag)

        return write

    def _map_writer(self, shape: Shape, tag: str, open_tag: str, close_tag: str) -> Writer:
        key_writer = self.writer(shape.key, shape.key.serialization.get("name", "key"))
        value_writer = self.writer(shape.value, shape.value.serialization.get("name", "value"))
        if shape.serialization.get("flattened"):

            def write_flat(value: Mapping[Any, Any], parts: list[str]) -> None:
                for key, item in value.items():
                    parts.append(open_tag)
                    key_writer(key, parts)
                    value_writer(item, parts)
                    parts.append(close_tag)

            return write_flat

        def write(value: Mapping[Any, Any], parts: list[str]) -> None:
            parts.append(open_tag)
            for key, item in value.items():
                parts.append("<entry>")
                key_writer(key, parts)
                value_writer(item, parts)
                parts.append("</entry>")
            parts.append(close_tag)

        return write


def _indexed(entries: dict[str, Any], path: str) -> list[tuple[int, Any]]:
    """The ``N``-indexed children of a list or map node, in index order."""
    indexed = []
    for index, value in entries.items():
        if not (index.isascii() and index.isdigit() and len(index) <= MAX_INDEX_DIGITS):
            raise InvalidValue(f"{index!r} is not a valid index", path)
        indexed.append((int(index), value))
    indexed.sort(key=lambda pair: pair[0])
    return indexed


def _parameter_names(name: str, member: Shape) -> tuple[str, ...]:
    """The parameter names a structure member may arrive under, preferred first.

    For a flattened list the member's own ``locationName`` names the items (the awsQuery rule of
    the Smithy specification); botocore's serializer uses the list member's ``locationName``
    instead, so that name is accepted too. Elsewhere there is one name.
    """
    own = str(member.serialization.get("name", name))
    wire = _member_name(name, member)
    return (own,) if own == wire else (own, wire)


def _member_name(name: str, member: Shape) -> str:
    """A structure member's parameter and element name: its ``locationName``, or for a flattened
    list the ``locationName`` of the list's member (botocore's serializer and parser agree)."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return str(item_name)
    return str(member.serialization.get("name", name))


def _namespace_attr(shape: Shape) -> str:
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attr(namespace)}"'
    prefix = namespace.get("prefix")
    attr = f"xmlns:{prefix}" if prefix else "xmlns"
    return f' {attr}="{escape_attr(namespace.get("uri", ""))}"'


def _leaf(node: Node, path: str) -> str:
    if isinstance(node, str):
        return node
    raise InvalidValue("expected a single value", path)


def _scalar_decoder(shape: Shape) -> Decoder:
    kind = shape.type_name
    if kind == "string":
        return _leaf
    if kind == "boolean":
        return lambda node, path: _convert(parse_boolean, node, path)
    if kind in ("integer", "long"):
        low, high = (INT32_MIN, INT32_MAX) if kind == "integer" else (INT64_MIN, INT64_MAX)
        return lambda node, path: _convert(lambda text: parse_integer(text, low, high), node, path)
    if kind in ("float", "double"):
        return lambda node, path: _convert(parse_float, node, path)
    if kind == "timestamp":
        fmt = timestamp_format(shape, ISO8601)
        return lambda node, path: _convert(lambda text: parse_timestamp(text, fmt), node, path)
    if kind == "blob":
        return lambda node, path: _convert(decode_base64, node, path)
    return _leaf


def _convert(parse: Callable[[str], Any], node: Node, path: str) -> Any:
    text = _leaf(node, path)
    try:
        return parse(text)
    except InvalidValue as exc:
        raise InvalidValue(exc.reason, path) from None


def _scalar_text(shape: Shape) -> Callable[[Any], str]:
    kind = shape.type_name
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind in ("integer", "long"):
        return lambda value: str(int(value))
    if kind in ("float", "double"):
        return lambda value: str(format_float(float(value)))
    if kind == "timestamp":
        fmt = timestamp_format(shape, ISO8601)
        return lambda value: format_timestamp(value, fmt)
    if kind == "blob":
        return lambda value: encode_base64(value)
    return lambda value: escape_text(str(value))
