"""From a botocore service model to the plain description of one generated module.

:func:`describe` walks the model once and decides everything the renderer needs: which
structures become ``TypedDict`` classes and in what order, the Python type of every member,
which enums become ``Literal`` aliases, the modelled errors with their status and fault, and the
method of every operation. The renderer only formats.

Order and forward references: structures are emitted depth first, each after the structures
its members use, so a reference needs quoting only where the model is recursive. The module
must not use ``from __future__ import annotations``: on Python 3.11 that hides ``Required[...]``
from ``TypedDict`` at run time (``__required_keys__`` would be empty).

Value types follow the table in :mod:`kumoi.protocol.base`. A streaming blob payload is a
:class:`~kumoi.core.streams.BodyStream` in an operation's input and a
:data:`~kumoi.core.http.ResponseBody` in its output; an event stream payload is an async
iterable of its event union.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

import botocore.model

from kumoi.codegen.naming import CodegenError, Namer, api_class_name, error_base_name, method_name

#: Enums with at most this many values become ``Literal`` aliases; larger ones are plain ``str``
#: (a long literal helps nobody read a signature, and AWS adds values to them over time).
MAX_LITERAL_VALUES = 24

#: Error status when a model gives none. The json protocol's default for a modelled client error
#: (SQS's and some IAM errors carry no ``httpStatusCode`` trait).
DEFAULT_ERROR_STATUS = 400

#: Status codes from this one up are the server's fault when the model does not say.
SERVER_ERROR_STATUS = 500

#: The input type of an operation that has no input shape in the model.
EMPTY_INPUT = "EmptyRequest"

_SCALAR_TYPES = {
    "string": "str",
    "integer": "int",
    "long": "int",
    "boolean": "bool",
    "float": "float",
    "double": "float",
    "timestamp": "datetime",
    "blob": "bytes",
}

#: Every name a generated module may import or define, reserved before any shape is named.
RESERVED_NAMES = frozenset(
    {
        "AsyncIterable",
        "BodyStream",
        "Literal",
        "OPERATIONS",
        "not_implemented",
        "RequestContext",
        "Required",
        "ResponseBody",
        "ModelledError",
        "TypedDict",
        "datetime",
        EMPTY_INPUT,
    }
)


@dataclass(frozen=True, slots=True)
class Alias:
    """``name = Literal[values...]``."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    type: str
    required: bool


@dataclass(frozen=True, slots=True)
class Struct:
    name: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class ErrorClass:
    name: str
    code: str
    status: int
    sender_fault: bool


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    method: str
    input: str
    output: str | None


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    """Everything one generated module contains, in emission order."""

    service: str
    botocore_version: str
    api_class: str
    error_base: str
    aliases: tuple[Alias, ...]
    structs: tuple[Struct, ...]
    errors: tuple[ErrorClass, ...]
    operations: tuple[Operation, ...]
    imports: frozenset[str]


def describe(service: str, document: dict[str, Any], botocore_version: str) -> ModuleSpec:
    """Describe the generated module of ``service`` from its model ``document`` (``service-2.json``)."""
    return _Builder(service, document).build(botocore_version)


class _Builder:
    def __init__(self, service: str, document: dict[str, Any]) -> None:
        self.service = service
        self.model = botocore.model.ServiceModel(document, service_name=service)
        # botocore's shapes do not keep the ``fault`` trait, so errors read it from the document.
        self.raw_shapes: dict[str, dict[str, Any]] = document["shapes"]
        self.api_class = api_class_name(service)
        self.error_base = error_base_name(service)
        self.namer = Namer(set(RESERVED_NAMES) | {self.api_class, self.error_base})
        self.aliases: dict[str, Alias] = {}
        self.structs: list[Struct] = []
        self.done: set[str] = set()
        self.in_progress: set[str] = set()
        self.has_empty_input = False
        self.imports: set[str] = set()
        self.input_shapes: set[str] = set()
        self.output_shapes: set[str] = set()

    def build(self, botocore_version: str) -> ModuleSpec:
        operation_models = [self.model.operation_model(name) for name in sorted(self.model.operation_names)]
        for op in operation_models:
            if op.input_shape is not None:
                self.input_shapes.add(op.input_shape.name)
            if op.output_shape is not None:
                self.output_shapes.add(op.output_shape.name)
        # Error classes are named first so that they keep their model names (providers raise them).
        errors = [self._error(shape) for shape in sorted(self.model.error_shapes, key=lambda s: s.name)]
        operations = [self._operation(op) for op in operation_models]
        return ModuleSpec(
            service=self.service,
            botocore_version=botocore_version,
            api_class=self.api_class,
            error_base=self.error_base,
            aliases=tuple(sorted(self.aliases.values(), key=lambda alias: alias.name)),
            structs=tuple(self.structs),
            errors=tuple(errors),
            operations=tuple(operations),
            imports=frozenset(self.imports),
        )

    def _error(self, shape: botocore.model.Shape) -> ErrorClass:
        trait = shape.metadata.get("error", {})
        status = int(trait.get("httpStatusCode", DEFAULT_ERROR_STATUS))
        if "senderFault" in trait:
            sender_fault = bool(trait["senderFault"])
        else:
            server_fault = self.raw_shapes[shape.name].get("fault", False)
            sender_fault = not server_fault and status < SERVER_ERROR_STATUS
        return ErrorClass(self.namer.name(shape.name), shape.name, status, sender_fault)

    def _operation(self, op: botocore.model.OperationModel) -> Operation:
        if op.input_shape is None:
            self._empty_input()
            input_type = EMPTY_INPUT
        else:
            input_type = self._struct_ref(op.input_shape)
        output_type = None if op.output_shape is None else self._struct_ref(op.output_shape)
        return Operation(op.name, method_name(op.name), input_type, output_type)

    def _empty_input(self) -> None:
        if not self.has_empty_input:
            self.has_empty_input = True
            self.structs.append(Struct(EMPTY_INPUT, ()))
            self.imports.add("TypedDict")

    def _struct_ref(self, shape: botocore.model.Shape) -> str:
        """Define ``shape`` (after what it uses) unless already done; the name to refer to it by."""
        name = self.namer.name(shape.name)
        if shape.name in self.in_progress:
            return f'"{name}"'
        if shape.name not in self.done:
            if shape.metadata.get("exception"):
                raise CodegenError(f"error shape {shape.name} is also used as a value")
            self.in_progress.add(shape.name)
            required = set(shape.required_members)
            members = tuple(
                Member(member, self._member_type(shape, member, member_shape), member in required)
                for member, member_shape in shape.members.items()
            )
            self.in_progress.discard(shape.name)
            self.done.add(shape.name)
            self.structs.append(Struct(name, members))
            self.imports.add("TypedDict")
            if required:
                self.imports.add("Required")
        return name

    def _member_type(self, owner: botocore.model.Shape, member: str, shape: botocore.model.Shape) -> str:
        if not member.isidentifier() or keyword.iskeyword(member):
            raise CodegenError(f"{owner.name}.{member} cannot be a TypedDict member name")
        if shape.serialization.get("streaming") and shape.type_name == "blob":
            return self._streaming_type(owner, member)
        if shape.serialization.get("eventstream"):
            self.imports.add("AsyncIterable")
            return f"AsyncIterable[{self._struct_ref(shape)}]"
        return self._type(shape)

    def _streaming_type(self, owner: botocore.model.Shape, member: str) -> str:
        is_input = owner.name in self.input_shapes
        if is_input == (owner.name in self.output_shapes):
            raise CodegenError(f"streaming member {owner.name}.{member} is not on one operation input/output")
        kind = "BodyStream" if is_input else "ResponseBody"
        self.imports.add(kind)
        return kind

    def _type(self, shape: botocore.model.Shape) -> str:
        type_name = shape.type_name
        if type_name == "structure":
            return self._struct_ref(shape)
        if type_name == "list":
            assert isinstance(shape, botocore.model.ListShape)
            return f"list[{self._type(shape.member)}]"
        if type_name == "map":
            assert isinstance(shape, botocore.model.MapShape)
            if shape.key.type_name != "string":
                raise CodegenError(f"map {shape.name} has {shape.key.type_name} keys")
            return f"dict[str, {self._type(shape.value)}]"
        if type_name == "string" and getattr(shape, "enum", None):
            return self._enum(shape)
        scalar = _SCALAR_TYPES.get(type_name)
        if scalar is None:
            raise CodegenError(f"shape {shape.name} has unsupported type {type_name}")
        if scalar == "datetime":
            self.imports.add("datetime")
        return scalar

    def _enum(self, shape: botocore.model.Shape) -> str:
        values = tuple(shape.enum)
        if len(values) > MAX_LITERAL_VALUES:
            return "str"
        for value in values:
            if not value.isascii() or not value.isprintable() or '"' in value or "\\" in value:
                raise CodegenError(f"enum {shape.name} has a value that needs escaping: {value!r}")
        if shape.name not in self.aliases:
            self.aliases[shape.name] = Alias(self.namer.name(shape.name), values)
            self.imports.add("Literal")
        return self.aliases[shape.name].name
