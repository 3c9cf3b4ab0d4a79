"""How every bench script hands over its figures: as indented JSON on stdout, and in ``--out``."""

from __future__ import annotations

import json
from pathlib import Path


def report(figures: object, out: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
