"""botocore's service models: the specification every codec is compiled from.

The models ship in the botocore wheel (``botocore/data/<service>/<version>/service-2.json.gz``,
plus ``service-2.sdk-extras.json`` changes that botocore merges in). kumoi reads those files
itself and wraps them in the small :class:`ServiceModel` / :class:`OperationModel` /
:class:`Shape` view below, which answers the same questions as ``botocore.model`` (same
attribute names, same trait semantics) for what codecs compile. Importing ``botocore.model``
would pull in botocore's whole client stack (urllib3, dateutil, awscrt, http.client...): about
90 ms of CPU and 18 MiB of resident memory in a server that never makes a request.

Documentation strings, most of a model's bytes, are dropped as the document is loaded.
Overlays (small, named changes with the reason they exist) are applied by the protocol that
needs them, never by editing the model.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import botocore

#: Member and shape traits that say how a value travels (``locationName`` is reported as ``name``).
SERIALIZATION_TRAITS = (
    "locationName",
    "queryName",
    "flattened",
    "location",
    "payload",
    "streaming",
    "timestampFormat",
    "xmlNamespace",
    "resultWrapper",
    "xmlAttribute",
    "eventstream",
    "event",
    "eventheader",
    "eventpayload",
    "jsonvalue",
    "hostLabel",
)
#: Traits that constrain or classify a value.
METADATA_TRAITS = (
    "required",
    "min",
    "max",
    "pattern",
    "sensitive",
    "enum",
    "idempotencyToken",
    "error",
    "exception",
    "endpointdiscoveryid",
    "retryable",
    "document",
    "union",
    "contextParam",
    "clientContextParams",
    "requiresLength",
)
_MODEL_FILE = "service-2"
_EXTRAS_FILE = "service-2.sdk-extras.json"


def _data_root() -> Path:
    return Path(botocore.__file__).parent / "data"


def _latest_version(service: str) -> Path:
    directory = _data_root() / service
    versions = sorted(
        path
        for path in directory.iterdir()
        if (path / f"{_MODEL_FILE}.json.gz").exists() or (path / f"{_MODEL_FILE}.json").exists()
    )
    if not versions:
        raise LookupError(f"botocore has no model for {service!r}")
    return versions[-1]


def _read_json(path: Path) -> Any:
    if path.suffix == ".gz":
        return json.loads(gzip.decompress(path.read_bytes()))
    return json.loads(path.read_bytes())


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge ``extra`` into ``base``: nested objects key by key, anything else replaced."""
    for key, value in extra.items():
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _merge(current, value)
        else:
            base[key] = value


def model_data(service: str) -> dict[str, Any]:
    """The raw model document of ``service`` (as botocore names it: ``s3``, ``sqs``, ...), with
    botocore's sdk-extras merged in, as botocore's loader gives it. A fresh document each call."""
    version = _latest_version(service)
    packed = version / f"{_MODEL_FILE}.json.gz"
    data: dict[str, Any] = _read_json(packed if packed.exists() else version / f"{_MODEL_FILE}.json")
    extras = version / _EXTRAS_FILE
    if extras.exists():
        _merge(data, _read_json(extras).get("merge", {}))
    return data


def without_documentation(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the documentation of the service, its operations, shapes and members removed."""
    data.pop("documentation", None)
    for operation in data.get("operations", {}).values():
        operation.pop("documentation", None)
    for shape in data.get("shapes", {}).values():
        shape.pop("documentation", None)
        for member in shape.get("members", {}).values():
            member.pop("documentation", None)
    return data


def service_model(service: str, data: dict[str, Any] | None = None) -> ServiceModel:
    """The model of ``service``, optionally from an (overlaid) document."""
    document = data if data is not None else without_documentation(model_data(service))
    return ServiceModel(document, service)


def botocore_version() -> str:
    return str(botocore.__version__)


class Shape:
    """A shape as one reference sees it: the shape's traits with the reference's traits on top
    (a member's ``locationName``, ``location``, ``timestampFormat``... override the shape's)."""

    def __init__(self, name: str, definition: Mapping[str, Any], model: ServiceModel) -> None:
        self.name = name
        self.type_name: str = definition["type"]
        self._definition = definition
        self._model = model

    def __repr__(self) -> str:
        return f"<Shape {self.name} ({self.type_name})>"

    @cached_property
    def serialization(self) -> dict[str, Any]:
        """How the value travels: ``name`` (the ``locationName``), ``location``, ``flattened``..."""
        found = {
            trait: self._definition[trait] for trait in SERIALIZATION_TRAITS if trait in self._definition
        }
        if "locationName" in found:
            found["name"] = found.pop("locationName")
        return found

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """Constraints and classification: ``required``, ``enum``, ``error``, ``exception``..."""
        return {trait: self._definition[trait] for trait in METADATA_TRAITS if trait in self._definition}

    @property
    def required_members(self) -> list[str]:
        required: list[str] = self.metadata.get("required", [])
        return required

    @property
    def is_document_type(self) -> bool:
        return bool(self.metadata.get("document", False))

    @property
    def enum(self) -> list[str]:
        values: list[str] = self.metadata.get("enum", [])
        return values

    @cached_property
    def members(self) -> dict[str, Shape]:
        """A structure's members by name, in model order."""
        return {name: self._model.resolve(ref) for name, ref in self._definition.get("members", {}).items()}

    @cached_property
    def member(self) -> Shape:
        """A list's item shape."""
        return self._model.resolve(self._definition["member"])

    @cached_property
    def key(self) -> Shape:
        """A map's key shape."""
        return self._model.resolve(self._definition["key"])

    @cached_property
    def value(self) -> Shape:
        """A map's value shape."""
        return self._model.resolve(self._definition["value"])


class OperationModel:
    """One operation: its HTTP binding and its input and output shapes."""

    def __init__(self, name: str, definition: Mapping[str, Any], model: ServiceModel) -> None:
        self.name = name
        self.http: dict[str, Any] = definition.get("http", {})
        self.deprecated: bool = bool(definition.get("deprecated", False))
        #: The ``httpChecksum`` trait (``requestChecksumRequired``, ``requestAlgorithmMember``...).
        self.http_checksum: dict[str, Any] = definition.get("httpChecksum", {})
        self.metadata = model.metadata
        self._definition = definition
        self._model = model

    @cached_property
    def input_shape(self) -> Shape | None:
        ref = self._definition.get("input")
        return self._model.resolve(ref) if ref is not None else None

    @cached_property
    def output_shape(self) -> Shape | None:
        ref = self._definition.get("output")
        return self._model.resolve(ref) if ref is not None else None


class ServiceModel:
    """A service's model document, with shapes and operations resolved on demand."""

    def __init__(self, document: dict[str, Any], service_name: str) -> None:
        #: The document this model reads (tests hand it to botocore's own serializers).
        self.document = document
        self.metadata: dict[str, Any] = document.get("metadata", {})
        self.service_name = service_name
        self._shapes: dict[str, Any] = document.get("shapes", {})
        self._operations: dict[str, Any] = document.get("operations", {})
        self._operation_models: dict[str, OperationModel] = {}

    @property
    def protocol(self) -> str:
        return str(self.metadata.get("protocol", ""))

    @property
    def operation_names(self) -> list[str]:
        return list(self._operations)

    @property
    def shape_names(self) -> list[str]:
        return list(self._shapes)

    def operation_model(self, name: str) -> OperationModel:
        found = self._operation_models.get(name)
        if found is None:
            found = self._operation_models[name] = OperationModel(name, self._operations[name], self)
        return found

    def shape_for(self, name: str, traits: Mapping[str, Any] | None = None) -> Shape:
        """The shape ``name``, seen through a reference's ``traits`` if given."""
        definition = self._shapes[name]
        if traits:
            definition = {**definition, **traits}
        return Shape(name, definition, self)

    def resolve(self, ref: Mapping[str, Any]) -> Shape:
        """The shape a reference (``{"shape": name, <member traits>...}``) points at."""
        traits = {key: value for key, value in ref.items() if key != "shape"}
        return self.shape_for(ref["shape"], traits)

    @property
    def error_shapes(self) -> list[Shape]:
        """The shapes with the ``exception`` trait, in model order."""
        return [
            self.shape_for(name) for name, definition in self._shapes.items() if definition.get("exception")
        ]
