"""How much of each service's model a provider implements, as a table for people and for the README.

An operation counts as implemented when the provider defines its method itself: in its own
class or any class it inherits from other than the generated ``<Service>Api`` base (whose
methods only answer "not implemented"). A provider need not subclass the base at all.
"""

from __future__ import annotations

import importlib
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from kumoi.codegen.naming import SERVICES, api_class_name, api_module

#: How the README names services whose upper-cased id reads badly.
DISPLAY_NAMES = {"s3control": "S3 Control"}
#: Width the ``--missing`` operation lists are wrapped to.
MISSING_WIDTH = 100


@dataclass(frozen=True, slots=True)
class GeneratedApi:
    """What a generated module tells about its service: operation → method, and the base class."""

    service: str
    operations: Mapping[str, str]
    base: type


def load_api(service: str) -> GeneratedApi:
    """The generated API of ``service`` (one of :data:`~kumoi.codegen.naming.SERVICES`)."""
    if service not in SERVICES:
        raise ValueError(f"kumoi generates no API for service {service!r}")
    module = importlib.import_module(api_module(service))
    operations: Mapping[str, str] = module.OPERATIONS
    base: type = getattr(module, api_class_name(service))
    return GeneratedApi(service, operations, base)


def defined_operations(api: GeneratedApi, provider: object) -> list[str]:
    """The operations of ``api`` whose method ``provider`` (an instance or a class) defines itself."""
    cls = provider if isinstance(provider, type) else type(provider)
    inherited = set(api.base.__mro__)
    own = [klass for klass in cls.__mro__ if klass not in inherited]
    return [
        operation
        for operation, method in api.operations.items()
        if any(method in vars(klass) for klass in own)
    ]


@dataclass(frozen=True, slots=True)
class ServiceCoverage:
    """One service's row of the report; operations by their model names, sorted."""

    service: str
    implemented: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.implemented) + len(self.missing)

    @property
    def percent(self) -> float:
        return 100.0 * len(self.implemented) / self.total if self.total else 100.0


def coverage(providers: Mapping[str, object]) -> list[ServiceCoverage]:
    """One row per service in ``providers`` (service name → provider instance or class), in
    the order of :data:`~kumoi.codegen.naming.SERVICES`."""
    unknown = sorted(set(providers) - set(SERVICES))
    if unknown:
        raise ValueError(f"kumoi generates no API for: {', '.join(unknown)}")
    rows: list[ServiceCoverage] = []
    for service in SERVICES:
        if service not in providers:
            continue
        api = load_api(service)
        implemented = set(defined_operations(api, providers[service]))
        rows.append(
            ServiceCoverage(
                service=service,
                implemented=tuple(sorted(implemented)),
                missing=tuple(sorted(set(api.operations) - implemented)),
            )
        )
    return rows


def render_text(rows: list[ServiceCoverage], *, missing: bool = False) -> str:
    """A plain-text table; with ``missing``, each service's unimplemented operations under its row."""
    header = f"{'service':<10}{'implemented':>12}{'total':>8}{'coverage':>10}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row.service:<10}{len(row.implemented):>12}{row.total:>8}{row.percent:>9.1f}%")
        if missing and row.missing:
            lines.extend(
                textwrap.wrap(
                    ", ".join(row.missing),
                    width=MISSING_WIDTH,
                    initial_indent="  missing: ",
                    subsequent_indent="           ",
                    break_on_hyphens=False,
                )
            )
    implemented = sum(len(row.implemented) for row in rows)
    total = sum(row.total for row in rows)
    percent = 100.0 * implemented / total if total else 100.0
    lines.append("-" * len(header))
    lines.append(f"{'all':<10}{implemented:>12}{total:>8}{percent:>9.1f}%")
    return "\n".join(lines) + "\n"


def render_markdown(rows: list[ServiceCoverage]) -> str:
    """A Markdown table for the README: service, implemented / total, percent."""
    lines = ["| Service | Operations implemented | Coverage |", "|---|---:|---:|"]
    for row in rows:
        name = DISPLAY_NAMES.get(row.service, row.service.upper())
        lines.append(f"| {name} | {len(row.implemented)} / {row.total} | {row.percent:.0f}% |")
    return "\n".join(lines) + "\n"
