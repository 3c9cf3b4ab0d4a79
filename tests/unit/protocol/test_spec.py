"""kumoi's own view of botocore's models says what ``botocore.model`` says, for every served model.

The codecs are compiled from :mod:`kumoi.protocol.spec` (botocore's model classes would import
botocore's whole client stack into the server), so this is the guarantee that nothing changed:
the same documents (sdk-extras merged) and, shape by shape, the same traits as botocore reads them.
"""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.model
import pytest

from kumoi.protocol.overlays import sqs_json_model, sqs_query_model
from kumoi.protocol.spec import ServiceModel, Shape, model_data, service_model, without_documentation

SERVICES = ("s3", "sqs", "sns", "sts", "iam")


@pytest.mark.parametrize("service", SERVICES)
def test_documents_are_what_botocores_loader_gives(service: str) -> None:
    expected = botocore.loaders.create_loader().load_service_model(service, "service-2")
    assert model_data(service) == expected
    assert model_data(service) is not model_data(service)  # callers may change their copy


def test_sdk_extras_are_merged() -> None:
    # botocore's s3 sdk-extras turn the Expires header back into a timestamp.
    assert model_data("s3")["shapes"]["Expires"]["type"] == "timestamp"


def test_documentation_is_dropped() -> None:
    document = service_model("s3").document
    assert "documentation" not in document
    assert not any("documentation" in operation for operation in document["operations"].values())
    for shape in document["shapes"].values():
        assert "documentation" not in shape
        assert not any("documentation" in member for member in shape.get("members", {}).values())


def _models() -> list[Any]:
    models = [(name, service_model(name)) for name in SERVICES]
    models += [("sqs-query", sqs_query_model()), ("sqs-json", sqs_json_model())]
    return [pytest.param(model, id=name) for name, model in models]


def _same_shape(ours: Shape, theirs: botocore.model.Shape, seen: set[str], path: str) -> None:
    assert (ours.name, ours.type_name) == (theirs.name, theirs.type_name), path
    assert ours.serialization == theirs.serialization, path
    assert ours.metadata == theirs.metadata, path
    assert ours.required_members == theirs.required_members, path
    assert ours.is_document_type == bool(getattr(theirs, "is_document_type", False)), path
    if ours.type_name == "string":
        assert ours.enum == theirs.enum, path
    # A shape's traits are compared at every reference (member traits differ); its members,
    # which do not depend on the reference, once.
    if ours.name in seen:
        return
    seen.add(ours.name)
    if ours.type_name == "structure":
        assert list(ours.members) == list(theirs.members), path
        for name, member in ours.members.items():
            _same_shape(member, theirs.members[name], seen, f"{path}.{name}")
    elif ours.type_name == "list":
        _same_shape(ours.member, theirs.member, seen, f"{path}.member")
    elif ours.type_name == "map":
        _same_shape(ours.key, theirs.key, seen, f"{path}.key")
        _same_shape(ours.value, theirs.value, seen, f"{path}.value")


@pytest.mark.parametrize("model", _models())
def test_shapes_and_operations_read_as_botocore_reads_them(model: ServiceModel) -> None:
    theirs = botocore.model.ServiceModel(model.document, service_name=model.service_name)
    assert model.metadata == theirs.metadata
    assert model.protocol == theirs.protocol
    assert model.operation_names == theirs.operation_names
    assert model.shape_names == theirs.shape_names
    assert [shape.name for shape in model.error_shapes] == [shape.name for shape in theirs.error_shapes]
    seen: set[str] = set()
    for name in model.operation_names:
        ours, expected = model.operation_model(name), theirs.operation_model(name)
        assert ours is model.operation_model(name)
        assert (ours.name, ours.http, ours.deprecated) == (expected.name, expected.http, expected.deprecated)
        for side in ("input_shape", "output_shape"):
            mine, botocores = getattr(ours, side), getattr(expected, side)
            assert (mine is None) == (botocores is None), f"{name}.{side}"
            if mine is not None:
                _same_shape(mine, botocores, seen, f"{name}.{side}")
    for name in model.shape_names:
        _same_shape(model.shape_for(name), theirs.shape_for(name), seen, name)


def test_member_traits_override_the_shapes_own() -> None:
    document: dict[str, Any] = {
        "metadata": {"protocol": "rest-xml"},
        "operations": {},
        "shapes": {
            "Outer": {
                "type": "structure",
                "members": {"When": {"shape": "Stamp", "location": "header", "locationName": "x-when"}},
            },
            "Stamp": {"type": "timestamp", "timestampFormat": "iso8601", "locationName": "Stamp"},
        },
    }
    member = ServiceModel(without_documentation(document), "test").shape_for("Outer").members["When"]
    assert member.serialization == {"name": "x-when", "location": "header", "timestampFormat": "iso8601"}
