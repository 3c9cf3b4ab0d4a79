"""Do a provider's operation methods keep the generated signatures?

mypy already checks overrides of the generated base; this is the run-time check for a test
suite, and it also covers providers that do not subclass the base. Each operation method the
provider defines must be ``async``, take ``(self, ctx, request)`` and carry the same resolved
annotations as the generated method.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from kumoi.codegen.coverage import defined_operations, load_api


def signature_problems(service: str, provider: object) -> list[str]:
    """One line per operation method of ``provider`` that does not match ``service``'s generated API."""
    api = load_api(service)
    cls = provider if isinstance(provider, type) else type(provider)
    problems: list[str] = []
    for operation in defined_operations(api, cls):
        method = api.operations[operation]
        problem = _compare(getattr(cls, method), getattr(api.base, method))
        if problem:
            problems.append(f"{cls.__name__}.{method} ({operation}): {problem}")
    return problems


def _compare(actual: Callable[..., Any], expected: Callable[..., Any]) -> str | None:
    if not inspect.iscoroutinefunction(actual):
        return "must be an async def"
    actual_params = _parameters(actual)
    expected_params = _parameters(expected)
    if actual_params != expected_params:
        return f"parameters {actual_params}, expected {expected_params}"
    try:
        actual_hints = typing.get_type_hints(actual)
    except Exception as exc:  # an unresolvable annotation is exactly what this check reports
        return f"annotations do not resolve: {exc!r}"
    expected_hints = typing.get_type_hints(expected)
    for name, hint in expected_hints.items():
        if actual_hints.get(name) != hint:
            where = "return" if name == "return" else f"parameter {name!r}"
            return f"{where} annotated {actual_hints.get(name)!r}, expected {hint!r}"
    return None


def _parameters(function: Callable[..., Any]) -> list[tuple[str, str]]:
    return [(p.name, p.kind.name) for p in inspect.signature(function).parameters.values()]
