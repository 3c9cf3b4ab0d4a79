"""Python names for the things a service model names: modules, classes, methods, shapes.

Shared by the generator and by the tools that inspect generated modules (coverage,
conformance), so that both sides agree on where a service's API lives and what it is called.
"""

from __future__ import annotations

import builtins
import keyword

from botocore import xform_name

#: The services kumoi generates an API module for, in the order reports list them.
SERVICES: tuple[str, ...] = ("s3", "sqs", "sns", "sts", "iam", "s3control")

#: Names a shape must not take in a generated module: Python's own, whatever the module
#: imports, and the module-level names the generator defines itself.
_PYTHON_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


class CodegenError(Exception):
    """The model uses something the generator does not know how to express."""


def api_module(service: str) -> str:
    """The dotted name of ``service``'s generated module."""
    return f"kumoi.services.{service}.api"


def api_class_name(service: str) -> str:
    """The generated base class providers subclass: ``s3`` → ``S3Api``, ``sqs`` → ``SqsApi``."""
    return f"{service.capitalize()}Api"


def error_base_name(service: str) -> str:
    """The generated base of ``service``'s modelled errors: ``s3`` → ``S3Error``."""
    return f"{service.capitalize()}Error"


def method_name(operation: str) -> str:
    """botocore's spelling of an operation as a method: ``ListObjectsV2`` → ``list_objects_v2``."""
    return str(xform_name(operation))


class Namer:
    """Hands out unique, safe identifiers for one generated module.

    A shape name that is a Python keyword or builtin, or that is already taken by a name the
    module defines or imports, gets a trailing underscore (as PEP 8 suggests for keywords)
    until it is free. The same shape name always gets the same identifier.
    """

    def __init__(self, reserved: set[str]) -> None:
        self._taken = set(reserved) | _PYTHON_NAMES
        self._assigned: dict[str, str] = {}

    def name(self, shape_name: str) -> str:
        assigned = self._assigned.get(shape_name)
        if assigned is not None:
            return assigned
        if not shape_name.isidentifier():
            raise CodegenError(f"shape name {shape_name!r} is not a Python identifier")
        candidate = shape_name
        while candidate in self._taken:
            candidate += "_"
        self._taken.add(candidate)
        self._assigned[shape_name] = candidate
        return candidate
