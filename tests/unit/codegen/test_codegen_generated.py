"""The committed ``kumoi/services/<service>/api.py`` modules: current, importable, true to the model."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import shutil
import subprocess
import typing
from pathlib import Path
from types import ModuleType

import pytest
from botocore.loaders import Loader

from kumoi.codegen.__main__ import main
from kumoi.codegen.generate import api_path, generate_module, generated_from, stale_modules, write_modules
from kumoi.codegen.naming import SERVICES, api_class_name, api_module, error_base_name, method_name
from kumoi.codegen.shapes import DEFAULT_ERROR_STATUS
from kumoi.core.context import Caller, RequestContext
from kumoi.core.errors import ServiceError
from kumoi.protocol.spec import botocore_version, service_model


def _module(service: str) -> ModuleType:
    return importlib.import_module(api_module(service))


@pytest.mark.parametrize("service", SERVICES)
def test_committed_module_is_current(service: str) -> None:
    committed = api_path(service).read_text(encoding="utf-8")
    made_with = generated_from(committed)
    assert made_with is not None, "the header names the botocore version"
    if made_with == botocore_version():
        assert committed == generate_module(service), "stale: run python -m kumoi.codegen"
    else:
        # Another botocore is installed: its models may differ, so only check the module imports.
        assert _module(service).OPERATIONS


def test_generated_files_are_lint_and_format_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None
    paths = [str(api_path(service)) for service in SERVICES]
    subprocess.run([ruff, "check", "--quiet", *paths], check=True)
    subprocess.run([ruff, "format", "--check", "--quiet", *paths], check=True)


@pytest.mark.parametrize("service", SERVICES)
def test_operations_match_the_model(service: str) -> None:
    model = service_model(service)
    operations = _module(service).OPERATIONS
    assert list(operations) == sorted(model.operation_names)
    assert all(operations[name] == method_name(name) for name in model.operation_names)
    assert operations.get("ListObjectsV2", "list_objects_v2") == "list_objects_v2"


@pytest.mark.parametrize("service", SERVICES)
def test_api_methods_carry_the_model_shapes(service: str) -> None:
    module = _module(service)
    model = service_model(service)
    base = getattr(module, api_class_name(service))
    for operation, method in module.OPERATIONS.items():
        function = getattr(base, method)
        assert inspect.iscoroutinefunction(function)
        assert list(inspect.signature(function).parameters) == ["self", "ctx", "request"]
        hints = typing.get_type_hints(function)
        assert hints["ctx"] is RequestContext
        op = model.operation_model(operation)
        expected_input = op.input_shape.name if op.input_shape is not None else "EmptyRequest"
        assert hints["request"] is getattr(module, expected_input)
        if op.output_shape is None:
            assert hints["return"] is type(None)
        else:
            assert hints["return"] is getattr(module, op.output_shape.name)


@pytest.mark.parametrize("service", SERVICES)
def test_required_members_are_required_at_run_time(service: str) -> None:
    module = _module(service)
    model = service_model(service)
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        typed = getattr(module, shape.name)
        assert typed.__required_keys__ == frozenset(shape.required_members)
        assert typed.__required_keys__ | typed.__optional_keys__ == frozenset(shape.members)


@pytest.mark.parametrize("service", SERVICES)
def test_errors_carry_code_status_and_fault(service: str) -> None:
    module = _module(service)
    base = getattr(module, error_base_name(service))
    raw = Loader().load_service_model(service, "service-2")
    for shape in service_model(service).error_shapes:
        error_class = getattr(module, shape.name)
        assert issubclass(error_class, base) and issubclass(error_class, ServiceError)
        error = error_class("boom")
        assert (error.code, error.message, error.fields, error.headers) == (shape.name, "boom", {}, {})
        assert error.status == shape.metadata.get("error", {}).get("httpStatusCode", DEFAULT_ERROR_STATUS)
        # The model's ``fault`` trait makes an error the server's whatever its status
        # (s3control's InternalServiceException is a 400).
        server_fault = raw["shapes"][shape.name].get("fault", False)
        assert error.sender_fault == (error.status < 500 and not server_fault)


def test_error_constructor_is_ergonomic_and_dataclass_compatible() -> None:
    from kumoi.services.s3.api import NoSuchBucket, S3Error

    error = NoSuchBucket("The specified bucket does not exist", fields={"BucketName": "b"})
    assert (error.code, error.status, error.sender_fault) == ("NoSuchBucket", 404, True)
    assert error.fields == {"BucketName": "b"}
    assert str(error) == "NoSuchBucket: The specified bucket does not exist"
    assert dataclasses.is_dataclass(error)
    changed = dataclasses.replace(error, message="gone")
    assert type(changed) is NoSuchBucket and changed.message == "gone" and changed.fields == error.fields
    once = NoSuchBucket(status=410, headers={"x-amz-id": "1"})
    assert (once.status, once.headers, NoSuchBucket.status) == (410, {"x-amz-id": "1"}, 404)

    class BucketNotEmpty(S3Error):
        code = "BucketNotEmpty"
        status = 409

    assert (BucketNotEmpty("x").code, BucketNotEmpty("x").status) == ("BucketNotEmpty", 409)
    with pytest.raises(ServiceError):
        raise BucketNotEmpty("The bucket you tried to delete is not empty")


def test_unimplemented_operation_answers_not_implemented() -> None:
    from kumoi.services.sqs.api import SqsApi

    caller = Caller("000000000000", "arn:aws:iam::000000000000:root", "AIDA", "AKIA")
    ctx = RequestContext("r", "sqs", "CreateQueue", "us-east-1", caller, "http://localhost:4566", "localhost")
    with pytest.raises(ServiceError) as raised:
        asyncio.run(SqsApi().create_queue(ctx, {"QueueName": "q"}))
    error = raised.value
    assert (error.code, error.status, error.sender_fault) == ("NotImplemented", 501, False)
    assert "CreateQueue" in error.message


def test_write_and_check_into_another_tree(tmp_path: Path) -> None:
    written = write_modules(tmp_path, services=("sts", "sqs"))
    assert written == [api_path("sts", tmp_path), api_path("sqs", tmp_path)]
    assert write_modules(tmp_path, services=("sts", "sqs")) == []
    assert stale_modules(tmp_path, services=("sts", "sqs")) == []
    path = api_path("sts", tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert stale_modules(tmp_path, services=("sts", "sqs", "sns")) == [path, api_path("sns", tmp_path)]


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "sts"]) == 0
    with pytest.raises(SystemExit) as exited:
        main(["nosuchservice"])
    assert exited.value.code == 2
    assert "unknown service" in capsys.readouterr().err
