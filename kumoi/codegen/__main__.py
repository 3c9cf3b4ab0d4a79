"""``python -m kumoi.codegen [--check] [service ...]``: regenerate the services' API modules.

With ``--check`` nothing is written; the exit status is 1 if any module is stale (for CI).
"""

from __future__ import annotations

import argparse
import sys

from kumoi.codegen.generate import stale_modules, write_modules
from kumoi.codegen.naming import SERVICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kumoi.codegen", description=__doc__)
    parser.add_argument("services", nargs="*", metavar="service", help=f"any of {', '.join(SERVICES)}")
    parser.add_argument("--check", action="store_true", help="only report stale modules")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    services = tuple(args.services) or SERVICES
    if args.check:
        stale = stale_modules(services=services)
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    for path in write_modules(services=services):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
