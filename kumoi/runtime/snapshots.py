"""``kumoi snapshot save|load`` and ``kumoi reset``: state you can keep, move and throw away."""

from __future__ import annotations

import argparse
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from kumoi.runtime.keys import KEYS_DIR
from kumoi.storage.snapshot import META_NAME, SnapshotError, load

_CHUNK = 1 << 20


def run_command(args: argparse.Namespace) -> int:
    try:
        if args.command == "reset":
            return _reset(args.data_dir)
        if args.action == "save":
            return _save(args.endpoint, args.file)
        count = load(args.file, args.data_dir, args.data_dir / KEYS_DIR)
        print(f"loaded {args.file} into {args.data_dir} ({count} blobs); start kumoi on it")
        return 0
    except (SnapshotError, OSError, urllib.error.URLError) as exc:
        print(f"kumoi: {exc}", file=sys.stderr)
        return 1


def _save(endpoint: str, target: Path) -> int:
    request = urllib.request.Request(endpoint.rstrip("/") + "/_kumoi/snapshot", method="POST")
    partial = target.with_name(target.name + ".partial")
    with urllib.request.urlopen(request, timeout=600) as response, partial.open("wb") as out:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
    partial.replace(target)
    print(f"saved {target} ({target.stat().st_size} bytes)")
    return 0


def _reset(data_dir: Path) -> int:
    if not data_dir.exists():
        return 0
    if not (data_dir / META_NAME).exists():
        print(
            f"kumoi: {data_dir} does not look like a kumoi data directory; not deleting it", file=sys.stderr
        )
        return 1
    shutil.rmtree(data_dir)
    print(f"deleted {data_dir}")
    return 0
