"""``kumoi coverage``: which operations of each service's model kumoi implements."""

from __future__ import annotations

from kumoi.codegen.coverage import coverage, render_markdown, render_text
from kumoi.runtime.wiring import provider_classes


def coverage_report(*, missing: bool = False, markdown: bool = False) -> str:
    providers = {name: cls if cls is not None else object() for name, cls in provider_classes().items()}
    rows = coverage(providers)
    return render_markdown(rows) if markdown else render_text(rows, missing=missing)
