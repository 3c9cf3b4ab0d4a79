"""The rest-xml protocol (S3): requests and responses compiled from the botocore model.

At construction every operation gets its :class:`~kumoi.protocol.rest_routing.Route`; at its first
use, a frozen plan: the parsers of its URI labels, query parameters and headers (dicts keyed by wire
name, so a request costs one lookup per parameter it *carries*, not per member the operation
*declares*), its payload kind and XML reader; and for its output the header formatters, status
code and XML writer. Nothing is looked up in the model per request after that, and the server's
start-up does not compile the plans of S3's 111 operations, most of which a run never calls.

Streaming blob payloads (PutObject, UploadPart) are never read here: the request's
:class:`~kumoi.core.streams.BodyStream` is handed to the provider as the member value. Streaming
outputs (GetObject) pass the provider's :data:`~kumoi.core.http.ResponseBody` through, with
``content_length`` from the ``ContentLength`` member. ``Content-Length`` is never written as a header
member: it always travels as :attr:`HttpResponse.content_length` (HeadObject sets it with an empty
body), so the HTTP edge writes exactly one.

Errors follow S3: malformed XML → ``MalformedXML``, bodies over
:data:`~kumoi.core.streams.MAX_DOCUMENT_BODY` → ``MaxMessageLengthExceeded``, bad percent-encoding
or UTF-8 in the URI → ``InvalidURI``, a value that does not parse as its type (a non-integer in an
integer header) → ``InvalidArgument`` naming it, no operation for the method and path →
``MethodNotAllowed``. The S3-only facts live in :mod:`kumoi.protocol.rest_s3`.

Path-style addressing only: a router that accepts virtual-hosted requests rewrites ``request.path``
to ``/{bucket}{path}`` before calling :meth:`RestXmlCodec.decode`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest, HttpResponse
from kumoi.core.streams import MAX_DOCUMENT_BODY, BodyTooLarge, read_limited
from kumoi.protocol import rest_s3
from kumoi.protocol.base import DecodedRequest, ServiceCodec
from kumoi.protocol.rest_routing import Route, Router
from kumoi.protocol.rest_values import (
    Parse,
    UriError,
    format_header_list,
    header_text,
    parse_query,
    parse_timestamp,
    percent_decode,
    scalar_formatter,
    scalar_parser,
    split_date_list,
    split_header_list,
)
from kumoi.protocol.rest_xmlbody import Reader, Writer, XmlReaders, XmlWriters, element_name
from kumoi.protocol.spec import OperationModel, ServiceModel, Shape
from kumoi.protocol.xml import XmlError, XmlWriter, error_text, parse

XML_CONTENT_TYPE = "application/xml"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

#: Conditional request headers whose invalid dates are ignored, not refused (RFC 9110 §13.1.3-4).
_LENIENT_DATE_HEADERS = frozenset({"if-modified-since", "if-unmodified-since"})

# Payload kinds.
_NONE, _STREAM, _BLOB, _STRING, _STRUCTURE = range(5)
# Header binding kinds.
_SCALAR, _LIST, _LENIENT = range(3)
# Output member actions.
_OUT_HEADER, _OUT_PREFIX, _OUT_STATUS, _OUT_LENGTH = range(4)
# Integrity checks of a document body (S3, by the operation's httpChecksum trait): none, the
# headers sent, a header required and checked.
_NO_CHECK, _VERIFY, _REQUIRED = range(3)


@dataclass(frozen=True, slots=True)
class _InputPlan:
    labels: dict[str, tuple[str, Parse]]
    query: dict[str, tuple[str, Parse, bool]]
    query_map: tuple[str, Parse, bool] | None
    headers: dict[str, tuple[str, Parse, int]]
    prefix_headers: tuple[tuple[str, str], ...]
    payload_member: str | None
    payload_kind: int
    body_reader: Reader | None
    integrity: int = _NO_CHECK


@dataclass(frozen=True, slots=True)
class _OutputPlan:
    status: int
    actions: dict[str, tuple[int, str, Callable[[Any], str]]]
    payload_member: str | None
    payload_kind: int
    payload_name: str
    body_writer: Writer | None
    root: str


def _identity(value: Any) -> str:
    return str(value)


class RestXmlCodec(ServiceCodec):
    """rest-xml for one service model; S3's quirks apply when the model is S3's."""

    protocol = "rest-xml"

    def __init__(self, model: ServiceModel) -> None:
        self._is_s3 = model.metadata.get("serviceId") == "S3"
        self._namespace = f' xmlns="{rest_s3.S3_NAMESPACE}"' if self._is_s3 else ""
        self._model = model
        self._readers = XmlReaders()
        self._writers = XmlWriters(rest_s3.WRITER_OVERRIDES if self._is_s3 else None)
        # Plans are compiled at each operation's first use; routes are needed from the start.
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}
        routes = [
            _route(model.operation_model(name), order) for order, name in enumerate(model.operation_names)
        ]
        if self._is_s3:
            routes.append(rest_s3.POST_OBJECT_ROUTE)
            routes.extend(rest_s3.OPTIONS_ROUTES)
        self._router = Router(routes)

    # --- requests ------------------------------------------------------------------------------

    def match(
        self, method: str, path: str, query: str, headers: Headers | None = None
    ) -> tuple[str, dict[str, str]] | None:
        """The operation a request calls and its percent-decoded path labels, or ``None``.

        ``headers`` tell apart operations that differ only by a header (CopyObject's
        ``x-amz-copy-source``); without them such a request matches the header-less operation.
        Raises :class:`ServiceError` ``InvalidURI`` for undecodable query or labels.
        """
        found = self._router.match(method, path, _query(query), headers)
        if found is None:
            return None
        route, raw = found
        return route.operation, {name: _label(value) for name, value in raw.items()}

    async def decode(self, request: HttpRequest) -> DecodedRequest:
        query = _query(request.query_string)
        found = self._router.match(request.method, request.path, query, request.headers)
        if found is None:
            raise rest_s3.method_not_allowed(request.method, rest_s3.resource_type(request.path))
        route, raw_labels = found
        operation = route.operation
        if operation == rest_s3.POST_OBJECT:
            return _post_object(request, raw_labels)
        if operation == rest_s3.OPTIONS_OBJECT:
            return _options_object(request, raw_labels)
        if self._is_s3:
            rest_s3.check_upload_addressed(request.method, operation, query)
        plan = self._input(operation)
        params: dict[str, Any] = {}
        for label, raw in raw_labels.items():
            member, parse_label = plan.labels[label]
            value = _label(raw)
            if self._is_s3 and member == "Key":
                rest_s3.check_key(value)
            params[member] = _convert(parse_label, value, label)
        if query:
            _decode_query(plan, query, params)
        _decode_headers(plan, request.headers, params)
        if self._is_s3 and "CopySource" in params:
            rest_s3.parse_copy_source(params["CopySource"])
        kind = plan.payload_kind
        if kind == _STREAM:
            params[plan.payload_member] = request.body  # type: ignore[index]
        elif kind != _NONE or plan.body_reader is not None:
            await _decode_body(plan, request, params)
        return DecodedRequest(operation, params)

    # --- responses ------------------------------------------------------------------------------

    def encode(self, operation: str, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        if self._is_s3 and operation in rest_s3.RAW_OPERATIONS:
            return rest_s3.raw_response(output, _id_headers(request_id))
        plan = self._output(operation)
        headers = _id_headers(request_id)
        status = plan.status
        content_length: int | None = None
        for member, value in output.items():
            action = plan.actions.get(member)
            if action is None or value is None:
                continue
            kind, name, fmt = action
            if kind == _OUT_HEADER:
                headers.append((name, _header_value(fmt(value))))
            elif kind == _OUT_PREFIX:
                headers.extend((name + key, _header_value(str(item))) for key, item in value.items())
            elif kind == _OUT_LENGTH:
                content_length = int(value)
            else:
                status = int(value)
        if self._is_s3 and "ContentRange" in output and operation == "GetObject":
            status = rest_s3.PARTIAL_CONTENT
        if self._is_s3 and rest_s3.STATUS_MEMBER in output:
            status = int(output[rest_s3.STATUS_MEMBER])
        body: Any = b""
        payload_kind = plan.payload_kind
        if payload_kind == _STREAM:
            body = output.get(plan.payload_member, b"")  # type: ignore[arg-type]
        elif payload_kind == _STRUCTURE:
            value = output.get(plan.payload_member)  # type: ignore[arg-type]
            if value is not None:
                parts = [_XML_DECLARATION]
                plan.body_writer(parts, plan.payload_name, value)  # type: ignore[misc]
                body = "".join(parts).encode("utf-8")
                headers.append(("Content-Type", XML_CONTENT_TYPE))
        elif payload_kind in (_BLOB, _STRING):
            value = output.get(plan.payload_member)  # type: ignore[arg-type]
            if value is not None:
                body = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        elif self._is_s3 and operation == "GetBucketLocation":
            body = rest_s3.location_constraint_document(output.get("LocationConstraint"))
            headers.append(("Content-Type", XML_CONTENT_TYPE))
        elif plan.body_writer is not None:
            parts = [_XML_DECLARATION]
            plan.body_writer(parts, plan.root, output)
            body = "".join(parts).encode("utf-8")
            headers.append(("Content-Type", XML_CONTENT_TYPE))
        if content_length is None and isinstance(body, bytes):
            content_length = len(body)
        return HttpResponse(status=status, headers=headers, body=body, content_length=content_length)

    def encode_error(
        self, error: ServiceError, request_id: str, operation: str | None = None
    ) -> HttpResponse:
        writer = XmlWriter()
        writer.start("Error")
        writer.element("Code", error.code)
        writer.raw(f"<Message>{error_text(error.message)}</Message>")
        for name, value in error.fields.items():
            writer.raw(f"<{name}>{error_text(value)}</{name}>")
        writer.element("RequestId", request_id)
        writer.element("HostId", host_id(request_id))
        writer.end("Error")
        body = writer.getvalue()
        headers = _id_headers(request_id)
        headers.append(("Content-Type", XML_CONTENT_TYPE))
        headers.extend((name, _header_value(value)) for name, value in error.headers.items())
        return HttpResponse(status=error.status, headers=headers, body=body, content_length=len(body))

    def _input(self, name: str) -> _InputPlan:
        """The input plan of operation ``name``, compiled at its first use."""
        plan = self._inputs.get(name)
        if plan is None:
            operation = self._model.operation_model(name)
            integrity = _NO_CHECK
            if self._is_s3 and rest_s3.checksum_required(operation.http_checksum):
                integrity = _REQUIRED
            elif self._is_s3 and rest_s3.checksums_body(operation.http_checksum):
                integrity = _VERIFY
            plan = self._inputs[name] = _input_plan(operation.input_shape, self._readers, integrity)
        return plan

    def _output(self, name: str) -> _OutputPlan:
        """The output plan of operation ``name``, compiled at its first use."""
        plan = self._outputs.get(name)
        if plan is None:
            plan = self._outputs[name] = self._output_plan(self._model.operation_model(name))
        return plan

    def _output_plan(self, operation: OperationModel) -> _OutputPlan:
        writers = self._writers
        status = int(operation.http.get("responseCode", 200))
        if self._is_s3 and operation.name in rest_s3.NO_CONTENT_OPERATIONS:
            status = rest_s3.NO_CONTENT
        shape = operation.output_shape
        actions: dict[str, tuple[int, str, Callable[[Any], str]]] = {}
        if shape is None:
            return _OutputPlan(status, actions, None, _NONE, "", None, "")
        payload_member = shape.serialization.get("payload")
        has_body = False
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            name = member_shape.serialization.get("name", member)
            if location == "header":
                if name.lower() == "content-length":
                    actions[member] = (_OUT_LENGTH, name, _identity)
                else:
                    actions[member] = (_OUT_HEADER, name, _header_formatter(member_shape))
            elif location == "headers":
                actions[member] = (_OUT_PREFIX, name, _identity)
            elif location == "statusCode":
                actions[member] = (_OUT_STATUS, name, _identity)
            elif member != payload_member:
                has_body = True
        if payload_member is not None:
            payload_shape = shape.members[payload_member]
            kind = _payload_kind(payload_shape)
            writer = writers.root_writer(payload_shape, self._namespace) if kind == _STRUCTURE else None
            payload_name = element_name(payload_shape, payload_shape.name)
            return _OutputPlan(status, actions, payload_member, kind, payload_name, writer, "")
        root = rest_s3.OUTPUT_ROOTS.get(operation.name) if self._is_s3 else None
        root = root or shape.serialization.get("name") or shape.name
        writer = writers.root_writer(shape, self._namespace) if has_body else None
        return _OutputPlan(status, actions, None, _NONE, "", writer, root)


def host_id(request_id: str) -> str:
    """The ``x-amz-id-2`` / ``<HostId>`` value: opaque, derived from the request id."""
    return base64.b64encode(request_id.encode("utf-8")).decode("ascii")


def _id_headers(request_id: str) -> list[tuple[str, str]]:
    return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]


def _header_value(value: str) -> str:
    # Response headers travel as latin-1 (one char per byte); non-ASCII text goes out as UTF-8.
    return value if value.isascii() else value.encode("utf-8").decode("latin-1")


def _route(operation: OperationModel, order: int) -> Route:
    path, literals = Route.split_uri(operation.http["requestUri"])
    required_query: set[str] = set()
    required_headers: set[str] = set()
    optional_query: set[str] = set()
    shape = operation.input_shape
    if shape is not None:
        required = set(shape.required_members)
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            name = member_shape.serialization.get("name", member)
            if location == "querystring" and member_shape.type_name != "map":
                (required_query if member in required else optional_query).add(name)
            elif location == "header" and member in required:
                required_headers.add(name.lower())
    return Route(
        operation=operation.name,
        method=operation.http["method"],
        path=path,
        literals=literals,
        required_query=frozenset(required_query),
        required_headers=frozenset(required_headers),
        optional_query=frozenset(optional_query),
        deprecated=bool(operation.deprecated),
        order=order,
    )


def _payload_kind(shape: Shape) -> int:
    if shape.type_name in ("structure", "union"):
        return _STRUCTURE
    if shape.serialization.get("streaming") or shape.serialization.get("eventstream"):
        return _STREAM
    if shape.type_name == "blob":
        return _BLOB
    return _STRING


def _input_plan(shape: Shape | None, readers: XmlReaders, integrity: int = _NO_CHECK) -> _InputPlan:
    labels: dict[str, tuple[str, Parse]] = {}
    query: dict[str, tuple[str, Parse, bool]] = {}
    query_map: tuple[str, Parse, bool] | None = None
    headers: dict[str, tuple[str, Parse, int]] = {}
    prefix_headers: list[tuple[str, str]] = []
    payload_member: str | None = None
    payload_kind = _NONE
    body_reader: Reader | None = None
    if shape is not None:
        has_body = False
        payload_member = shape.serialization.get("payload")
        for member, member_shape in shape.members.items():
            serialization = member_shape.serialization
            location = serialization.get("location")
            name = serialization.get("name", member)
            type_name = member_shape.type_name
            if location == "uri":
                labels[name] = (member, _text_parser(member_shape))
            elif location == "querystring":
                if type_name == "map":
                    value_shape = member_shape.value
                    is_list = value_shape.type_name == "list"
                    item = value_shape.member if is_list else value_shape
                    query_map = (member, _text_parser(item), is_list)
                elif type_name == "list":
                    query[name] = (member, _text_parser(member_shape.member), True)
                else:
                    query[name] = (member, _text_parser(member_shape), False)
            elif location == "header":
                lowered = name.lower()
                if type_name == "list":
                    headers[lowered] = (member, _text_parser(member_shape.member), _LIST)
                else:
                    kind = _LENIENT if lowered in _LENIENT_DATE_HEADERS else _SCALAR
                    headers[lowered] = (member, _text_parser(member_shape), kind)
            elif location == "headers":
                prefix_headers.append((name.lower(), member))
            elif location is None and member != payload_member:
                has_body = True
        if payload_member is not None:
            payload_shape = shape.members[payload_member]
            payload_kind = _payload_kind(payload_shape)
            if payload_kind == _STRUCTURE:
                body_reader = readers.reader(payload_shape)
        elif has_body:
            body_reader = readers.reader(shape)
    return _InputPlan(
        labels,
        query,
        query_map,
        headers,
        tuple(prefix_headers),
        payload_member,
        payload_kind,
        body_reader,
        integrity,
    )


def _text_parser(shape: Shape) -> Parse:
    return scalar_parser(shape.type_name, bool(shape.serialization.get("jsonvalue")))


def _header_formatter(shape: Shape) -> Callable[[Any], str]:
    timestamp_format = shape.serialization.get("timestampFormat", "rfc822")
    if shape.type_name == "list":
        item = scalar_formatter(shape.member.type_name, timestamp_format)
        if shape.member.type_name == "timestamp":
            # HTTP dates contain commas but are never quoted in a list (Smithy httpHeader rules).
            return lambda values: ", ".join(item(value) for value in values)
        return lambda values: format_header_list([item(value) for value in values])
    return scalar_formatter(shape.type_name, timestamp_format, bool(shape.serialization.get("jsonvalue")))


def _query(query_string: str) -> dict[str, list[str]]:
    try:
        return parse_query(query_string)
    except UriError:
        raise _invalid_uri() from None


def _label(raw: str) -> str:
    try:
        return percent_decode(raw)
    except UriError:
        raise _invalid_uri() from None


def _invalid_uri() -> ServiceError:
    return ServiceError("InvalidURI", "Couldn't parse the specified URI.", 400)


def _invalid_argument(name: str, value: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        f"Invalid value for {name}",
        400,
        fields={"ArgumentName": name, "ArgumentValue": value},
    )


def _convert(parse_text: Parse, text: str, name: str) -> Any:
    if parse_text is str:
        return text
    try:
        return parse_text(text)
    except (ValueError, OverflowError):
        raise _invalid_argument(name, text) from None


def _decode_query(plan: _InputPlan, query: dict[str, list[str]], params: dict[str, Any]) -> None:
    bindings = plan.query
    rest: dict[str, Any] | None = {} if plan.query_map is not None else None
    for key, values in query.items():
        binding = bindings.get(key)
        if binding is None:
            if rest is not None:
                rest[key] = values
            continue
        member, parse_text, is_list = binding
        if is_list:
            params[member] = [_convert(parse_text, value, key) for value in values]
        else:
            params[member] = _convert(parse_text, values[0], key)
    if rest and plan.query_map is not None:
        member, parse_text, is_list = plan.query_map
        if is_list:
            params[member] = {k: [_convert(parse_text, v, k) for v in vs] for k, vs in rest.items()}
        else:
            params[member] = {k: _convert(parse_text, vs[0], k) for k, vs in rest.items()}


def _decode_headers(plan: _InputPlan, headers: Headers, params: dict[str, Any]) -> None:
    bindings = plan.headers
    prefixes = plan.prefix_headers
    for name, raw in headers.items():
        binding = bindings.get(name)
        if binding is not None:
            member, parse_text, kind = binding
            text = header_text(raw)
            if kind == _SCALAR:
                if member not in params:
                    params[member] = _convert(parse_text, text, name)
            elif kind == _LIST:
                texts = split_date_list(text) if parse_text is parse_timestamp else split_header_list(text)
                items = [_convert(parse_text, item, name) for item in texts]
                params.setdefault(member, []).extend(items)
            elif member not in params:
                with suppress(ValueError):
                    params[member] = parse_text(text)
            continue
        for prefix, member in prefixes:
            if name.startswith(prefix):
                params.setdefault(member, {})[name[len(prefix) :]] = header_text(raw)


async def _decode_body(plan: _InputPlan, request: HttpRequest, params: dict[str, Any]) -> None:
    declared = request.body.content_length
    if declared is not None and declared > MAX_DOCUMENT_BODY:
        raise _too_large()
    try:
        data = await read_limited(request.body, MAX_DOCUMENT_BODY)
    except BodyTooLarge:
        raise _too_large() from None
    if plan.integrity != _NO_CHECK:
        rest_s3.check_document_integrity(request.headers, data, required=plan.integrity == _REQUIRED)
    kind = plan.payload_kind
    if not data and kind in (_BLOB, _STRING):
        return
    if kind == _BLOB:
        params[plan.payload_member] = data  # type: ignore[index]
        return
    if kind == _STRING:
        try:
            params[plan.payload_member] = data.decode("utf-8")  # type: ignore[index]
        except UnicodeDecodeError:
            raise ServiceError("InvalidArgument", "The request body is not valid UTF-8.", 400) from None
        return
    if not data.strip():
        return
    try:
        value = plan.body_reader(parse(data))  # type: ignore[misc]
    except (XmlError, ValueError, OverflowError):
        raise _malformed_xml() from None
    if kind == _STRUCTURE:
        params[plan.payload_member] = value  # type: ignore[index]
    else:
        params.update(value)


def _malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def _too_large() -> ServiceError:
    return ServiceError(
        "MaxMessageLengthExceeded",
        "Your request was too big.",
        400,
        fields={"MaxMessageLengthBytes": str(MAX_DOCUMENT_BODY)},
    )


def _post_object(request: HttpRequest, raw_labels: dict[str, str]) -> DecodedRequest:
    """PostObject: the bucket, the form's content type and the raw body; the request itself for
    what a form upload needs besides (Origin for CORS, the host for redirects)."""
    params: dict[str, Any] = {
        "Bucket": _label(raw_labels["Bucket"]),
        "Body": request.body,
        "Request": request,
    }
    content_type = request.headers.get("content-type")
    if content_type is not None:
        params["ContentType"] = content_type
    return DecodedRequest(rest_s3.POST_OBJECT, params)


def _options_object(request: HttpRequest, raw_labels: dict[str, str]) -> DecodedRequest:
    """A CORS preflight: the bucket, the key if any, and the three headers that ask the question."""
    params: dict[str, Any] = {"Bucket": _label(raw_labels["Bucket"])}
    if "Key" in raw_labels:
        params["Key"] = _label(raw_labels["Key"])
    for header, member in (
        ("origin", "Origin"),
        ("access-control-request-method", "AccessControlRequestMethod"),
        ("access-control-request-headers", "AccessControlRequestHeaders"),
    ):
        value = request.headers.get(header)
        if value is not None:
            params[member] = header_text(value)
    return DecodedRequest(rest_s3.OPTIONS_OBJECT, params)
