"""Regenerate the README's generated sections (configuration and compatibility tables).

python tools/readme_tables.py          # rewrite README.md in place
python tools/readme_tables.py --check  # exit 1 if README.md is stale (the test suite runs this)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from kumoi.config import settings_markdown
from kumoi.runtime.coverage import coverage_report

README = Path(__file__).resolve().parents[1] / "README.md"


def sections() -> dict[str, str]:
    return {"settings-table": settings_markdown(), "coverage-table": coverage_report(markdown=True)}


def render(text: str) -> str:
    for name, table in sections().items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
        found = pattern.search(text)
        if found is None:
            raise SystemExit(f"README.md has no <!-- {name}:start/end --> markers")
        start, end = found.span()
        opening, closing = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        text = text[:start] + opening + table.rstrip() + "\n" + closing + text[end:]
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = README.read_text()
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md is stale: run python tools/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
