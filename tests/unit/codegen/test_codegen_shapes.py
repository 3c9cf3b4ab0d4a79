"""The generator on small hand-written models: naming, recursion, enums, streams, errors, layout."""

from __future__ import annotations

import keyword
import sys
import typing
from collections.abc import AsyncIterable, Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.codegen.naming import CodegenError, Namer
from kumoi.codegen.render import LINE_LENGTH, _bracketed, render
from kumoi.codegen.shapes import MAX_LITERAL_VALUES, ModuleSpec, describe
from kumoi.core.errors import ServiceError
from kumoi.core.http import ResponseBody
from kumoi.core.streams import BodyStream

_STRING = {"type": "string"}


def _model(shapes: dict[str, Any], operations: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"protocol": "rest-xml", "serviceId": "Demo", "apiVersion": "2024-01-01"},
        "operations": {
            name: {"name": name, "http": {"method": "POST", "requestUri": "/"}, **op}
            for name, op in operations.items()
        },
        "shapes": shapes,
    }


def _load(spec: ModuleSpec) -> ModuleType:
    """Execute the rendered module, registered so that ``typing.get_type_hints`` can resolve it."""
    module = ModuleType("kumoi_codegen_demo_api")
    sys.modules[module.__name__] = module
    # dont_inherit: this file's ``from __future__ import annotations`` must not leak into the module.
    exec(compile(render(spec), "demo_api.py", "exec", dont_inherit=True), module.__dict__)
    return module


_DEMO_SHAPES: dict[str, Any] = {
    "PutRequest": {
        "type": "structure",
        "required": ["Name"],
        "members": {
            "Name": {"shape": "String"},
            "Body": {"shape": "Blob", "streaming": True},
            "Tree": {"shape": "None"},
            "Class": {"shape": "Color"},
            "Many": {"shape": "Big"},
            "Labels": {"shape": "LabelMap"},
            "When": {"shape": "Time"},
        },
        "payload": "Body",
    },
    "GetOutput": {
        "type": "structure",
        "members": {"Body": {"shape": "Blob", "streaming": True}, "Count": {"shape": "Long"}},
        "payload": "Body",
    },
    "SelectOutput": {"type": "structure", "members": {"Payload": {"shape": "Events"}}, "payload": "Payload"},
    "Events": {"type": "structure", "members": {"Stats": {"shape": "StatsEvent"}}, "eventstream": True},
    "StatsEvent": {"type": "structure", "members": {"Bytes": {"shape": "Long"}}, "event": True},
    # A recursive shape whose name is a Python keyword.
    "None": {"type": "structure", "members": {"Children": {"shape": "Forest"}, "Leaf": {"shape": "str"}}},
    "Forest": {"type": "list", "member": {"shape": "None"}},
    # A shape named like a builtin, and one named like something the module imports.
    "str": {"type": "structure", "members": {"Flag": {"shape": "Boolean"}, "Ratio": {"shape": "Double"}}},
    "Literal": {"type": "structure", "members": {"Data": {"shape": "Blob"}}},
    "Color": {"type": "string", "enum": ["red", "green"]},
    "Big": {"type": "string", "enum": [f"v{i}" for i in range(MAX_LITERAL_VALUES + 1)]},
    "LabelMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "Literal"}},
    "String": _STRING,
    "Blob": {"type": "blob"},
    "Long": {"type": "long"},
    "Boolean": {"type": "boolean"},
    "Double": {"type": "double"},
    "Time": {"type": "timestamp"},
    "Gone": {"type": "structure", "members": {}, "exception": True, "error": {"httpStatusCode": 410}},
    "Plain": {"type": "structure", "members": {"message": {"shape": "String"}}, "exception": True},
    "Broken": {"type": "structure", "members": {}, "exception": True, "fault": True},
    "Busy": {
        "type": "structure",
        "members": {},
        "exception": True,
        "error": {"httpStatusCode": 503, "senderFault": True},
    },
}

_DEMO_OPERATIONS: dict[str, Any] = {
    "Put": {"input": {"shape": "PutRequest"}},
    "Get": {"output": {"shape": "GetOutput"}},
    "SelectThingsV2": {"input": {"shape": "PutRequest"}, "output": {"shape": "SelectOutput"}},
}


def _generic(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(hint), typing.get_args(hint)


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[ModuleSpec, ModuleType]]:
    spec = describe("demo", _model(_DEMO_SHAPES, _DEMO_OPERATIONS), "0.0.0")
    module = _load(spec)
    yield spec, module
    del sys.modules[module.__name__]


def test_member_types_follow_the_value_table(demo: tuple[ModuleSpec, ModuleType]) -> None:
    _, module = demo
    put = typing.get_type_hints(module.PutRequest, include_extras=True)
    assert put["Name"] == typing.Required[str]
    assert put["Body"] is BodyStream
    assert put["Tree"] is module.None_
    assert put["Class"] == typing.Literal["red", "green"] and module.Color == put["Class"]
    assert put["Many"] is str, "a large enum is a plain str"
    assert _generic(put["Labels"]) == (dict, (str, module.Literal_))
    assert put["When"].__name__ == "datetime"
    assert module.PutRequest.__required_keys__ == {"Name"}
    get = typing.get_type_hints(module.GetOutput)
    assert get == {"Body": ResponseBody, "Count": int}
    payload = typing.get_type_hints(module.SelectOutput)["Payload"]
    assert _generic(payload) == (AsyncIterable, (module.Events,))
    assert typing.get_type_hints(module.str_) == {"Flag": bool, "Ratio": float}
    assert typing.get_type_hints(module.Literal_) == {"Data": bytes}


def test_recursive_shapes_are_forward_references(demo: tuple[ModuleSpec, ModuleType]) -> None:
    spec, module = demo
    assert 'Children: list["None_"]' in render(spec)
    hints = typing.get_type_hints(module.None_)
    assert _generic(hints["Children"]) == (list, (module.None_,)) and hints["Leaf"] is module.str_


def test_names_are_safe_and_operations_snake_case(demo: tuple[ModuleSpec, ModuleType]) -> None:
    spec, module = demo
    assert module.OPERATIONS == {"Get": "get", "Put": "put", "SelectThingsV2": "select_things_v2"}
    names = [struct.name for struct in spec.structs]
    assert "None_" in names and "str_" in names and "Literal_" in names and "EmptyRequest" in names
    assert names.index("None_") < names.index("PutRequest"), "structures come after what they use"
    hints = typing.get_type_hints(module.DemoApi.get)
    assert hints["request"] is module.EmptyRequest and hints["return"] is module.GetOutput
    assert typing.get_type_hints(module.DemoApi.put)["return"] is type(None)


def test_errors_take_status_and_fault_from_the_model(demo: tuple[ModuleSpec, ModuleType]) -> None:
    _, module = demo
    expected = {"Gone": (410, True), "Plain": (400, True), "Broken": (400, False), "Busy": (503, True)}
    for name, (status, sender_fault) in expected.items():
        error = getattr(module, name)("why")
        assert isinstance(error, module.DemoError) and isinstance(error, ServiceError)
        assert (error.code, error.status, error.sender_fault) == (name, status, sender_fault)
        assert error.message == "why"


def test_layout_fits_the_line_length(demo: tuple[ModuleSpec, ModuleType]) -> None:
    spec, _ = demo
    source = render(spec)
    assert source.startswith('"""Generated by kumoi.codegen from botocore 0.0.0\'s demo model. Do not edit.')
    assert "from __future__" not in source
    assert max(len(line) for line in source.splitlines()) <= LINE_LENGTH


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ({"In": {"type": "structure", "members": {"X": {"shape": "D"}}}, "D": {"type": "document"}}, "D has"),
        ({"In": {"type": "structure", "members": {"class": {"shape": "S"}}}, "S": _STRING}, "In.class"),
        (
            {
                "In": {"type": "structure", "members": {"M": {"shape": "Map"}}},
                "Map": {"type": "map", "key": {"shape": "I"}, "value": {"shape": "I"}},
                "I": {"type": "integer"},
            },
            "Map",
        ),
        (
            {
                "In": {"type": "structure", "members": {"E": {"shape": "E"}}},
                "E": {"type": "string", "enum": ['say "hi"']},
            },
            "enum E",
        ),
        (
            {
                "In": {"type": "structure", "members": {"N": {"shape": "Nested"}}},
                "Nested": {"type": "structure", "members": {"B": {"shape": "B", "streaming": True}}},
                "B": {"type": "blob"},
            },
            "Nested.B",
        ),
        (
            {
                "In": {"type": "structure", "members": {"E": {"shape": "Oops"}}},
                "Oops": {"type": "structure", "members": {}, "exception": True},
            },
            "error shape Oops",
        ),
    ],
)
def test_what_cannot_be_expressed_is_refused(shapes: dict[str, Any], message: str) -> None:
    with pytest.raises(CodegenError, match=message):
        describe("demo", _model(shapes, {"Op": {"input": {"shape": "In"}}}), "0.0.0")


_IDENTIFIERS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)


@given(st.lists(st.one_of(_IDENTIFIERS, st.sampled_from(["None", "str", "list", "OPERATIONS", "match"]))))
def test_namer_gives_unique_safe_stable_names(shape_names: list[str]) -> None:
    namer = Namer({"OPERATIONS"})
    given_names = {name: namer.name(name) for name in shape_names}
    assert len(set(given_names.values())) == len(given_names)
    for shape_name, python_name in given_names.items():
        assert namer.name(shape_name) == python_name
        assert not keyword.iskeyword(python_name) and python_name not in {"OPERATIONS", "str", "list"}
        assert python_name.rstrip("_") == shape_name.rstrip("_")


def test_namer_refuses_names_that_are_not_identifiers() -> None:
    with pytest.raises(CodegenError, match="not a Python identifier"):
        Namer(set()).name("Not-A-Name")


@given(
    st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=40), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=8),
)
def test_bracket_splitting_keeps_every_item_and_the_line_length(items: list[str], depth: int) -> None:
    indent = "    " * depth
    lines = _bracketed(f"{indent}head(", items, ") -> X:", indent)
    assert all(len(line) <= LINE_LENGTH for line in lines)
    body = "".join(line.strip() for line in lines)
    assert body.replace(",)", ")").replace(", ", ",") == f"head({','.join(items)}) -> X:"
