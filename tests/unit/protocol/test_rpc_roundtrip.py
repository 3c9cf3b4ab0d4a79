"""Round trips for every operation of STS, SQS (json and the query overlay), SNS and IAM.

Input: params with every member, generated from the shapes, serialized by botocore's serializer
(what an SDK sends) and decoded by our codec, must come back equal to what the wire can carry.
Output: our encoding of generated output must parse, with botocore's parser, back to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

import botocore.model
import botocore.parsers
import botocore.serialize
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kumoi.core.errors import ServiceError
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.protocol.base import ServiceCodec
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import ServiceModel, service_model

MAX_DEPTH = 4
_ABSENT = object()


@cache
def _spec(name: str) -> ServiceModel:
    """The model the codecs are compiled from."""
    if name == "sqs-query":
        return sqs_query_model()
    if name == "sqs":
        return sqs_json_model()
    return service_model(name)


@cache
def _model(name: str) -> botocore.model.ServiceModel:
    """botocore's view of the same document, for its serializers and parsers (the SDK side)."""
    return botocore.model.ServiceModel(_spec(name).document, service_name=_spec(name).service_name)


@cache
def _codec(name: str) -> ServiceCodec:
    model = _spec(name)
    return QueryCodec(model) if model.protocol == "query" else JsonCodec(model)


def _operations() -> list[Any]:
    return [
        pytest.param(name, op, id=f"{name}:{op}")
        for name in ("sts", "sqs", "sqs-query", "sns", "iam")
        for op in _model(name).operation_names
    ]


def run(coroutine: Any) -> Any:
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


# --- strategies from shapes ---------------------------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\r\n\t&<>"), max_size=8
)
_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "boolean": st.booleans(),
    "integer": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "double": st.floats(allow_nan=False, allow_infinity=False),
    "blob": st.binary(max_size=12),
    "timestamp": st.integers(0, 4_000_000_000).map(lambda s: datetime.fromtimestamp(s, UTC)),
}


def strategy(shape: botocore.model.Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return st.just({})
        return st.fixed_dictionaries(
            {name: strategy(member, depth + 1) for name, member in shape.members.items()}
        )
    if kind == "list":
        return st.lists(strategy(shape.member, depth + 1), max_size=0 if depth >= MAX_DEPTH else 3)
    if kind == "map":
        return st.dictionaries(
            strategy(shape.key, depth + 1),
            strategy(shape.value, depth + 1),
            max_size=0 if depth >= MAX_DEPTH else 3,
        )
    if kind == "string" and shape.enum:
        return st.sampled_from(shape.enum)
    return _SCALARS.get(kind, _TEXT)


@cache
def _strategy(service: str, operation: str, direction: str) -> st.SearchStrategy[Any]:
    op = _model(service).operation_model(operation)
    return strategy(op.input_shape if direction == "input" else op.output_shape)


# --- what the query wire can carry ------------------------------------------------------------


def _empty(shape: botocore.model.Shape) -> Any:
    return {"structure": {}, "map": {}, "list": []}.get(shape.type_name, "")


def query_input(value: Any, shape: botocore.model.Shape) -> Any:
    """``value`` as a query request carries it: empty maps and structures send nothing."""
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, item in value.items():
            converted = query_input(item, shape.members[name])
            if converted is not _ABSENT:
                out[name] = converted
        return out or _ABSENT
    if kind == "list":
        if not value:
            return []
        items = [converted for item in value if (converted := query_input(item, shape.member)) is not _ABSENT]
        return items or _ABSENT
    if kind == "map":
        if not value:
            return _ABSENT
        out = {}
        for key, item in value.items():
            converted = query_input(item, shape.value)
            out[key] = _empty(shape.value) if converted is _ABSENT else converted
        return out
    return value


def query_output(value: Any, shape: botocore.model.Shape) -> Any:
    """``value`` as botocore reads it back from XML: empty flattened lists and maps vanish."""
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, item in value.items():
            converted = query_output(item, shape.members[name])
            if converted is not _ABSENT:
                out[name] = converted
        return out
    if kind == "list":
        if not value and shape.serialization.get("flattened"):
            return _ABSENT
        return [query_output(item, shape.member) for item in value]
    if kind == "map":
        if not value and shape.serialization.get("flattened"):
            return _ABSENT
        return {key: query_output(item, shape.value) for key, item in value.items()}
    return value


def required_present(value: Any, shape: botocore.model.Shape) -> bool:
    kind = shape.type_name
    if kind == "structure":
        if any(name not in value for name in shape.required_members):
            return False
        return all(required_present(item, shape.members[name]) for name, item in value.items())
    if kind == "list":
        return all(required_present(item, shape.member) for item in value)
    if kind == "map":
        return all(required_present(item, shape.value) for item in value.values())
    return True


def _request(
    model: botocore.model.ServiceModel, op: botocore.model.OperationModel, params: dict[str, Any]
) -> HttpRequest:
    serializer = botocore.serialize.create_serializer(model.protocol, include_validation=False)
    request = serializer.serialize_to_request(params, op)
    body = request["body"]
    data = urlencode(body).encode() if isinstance(body, dict) else body
    return HttpRequest("POST", "/", "", Headers(request["headers"].items()), BytesBody(data))


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(data=st.data())
@pytest.mark.parametrize(("service", "operation"), _operations())
def test_round_trip(service: str, operation: str, data: st.DataObject) -> None:
    model = _model(service)
    op = model.operation_model(operation)
    codec = _codec(service)
    query = model.protocol == "query"
    if op.input_shape is not None:
        params = data.draw(_strategy(service, operation, "input"), label="input")
        expected = query_input(params, op.input_shape) if query else params
        expected = {} if expected is _ABSENT else expected
        request = _request(model, op, params)
        if required_present(expected, op.input_shape):
            decoded = run(codec.decode(request))
            assert decoded.operation == operation
            assert decoded.params == expected
        else:
            with pytest.raises(ServiceError) as raised:
                run(codec.decode(request))
            assert raised.value.code in ("MissingParameter", "ValidationError", "ValidationException")
    if op.output_shape is not None:
        output = data.draw(_strategy(service, operation, "output"), label="output")
        response = codec.encode(operation, output, "rid")
        parser = botocore.parsers.create_parser(model.protocol)
        assert isinstance(response.body, bytes)
        parsed = parser.parse(
            {"body": response.body, "headers": dict(response.headers), "status_code": 200}, op.output_shape
        )
        assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
        assert parsed == (query_output(output, op.output_shape) if query else output)
