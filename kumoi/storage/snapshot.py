"""Snapshots of a data directory: a consistent copy of the metadata plus the blobs it references.

A snapshot is a tar file holding ``manifest.json``, ``meta.sqlite3`` (taken with SQLite's online
backup API on a reader connection: a consistent point in time while writes go on) and
``blobs/<id>`` for every blob the copied metadata references (any ``*blob_id*`` column, minus queued
garbage), and ``secrets/<name>`` for the files of a secrets directory the caller names (the
encryption master keys: without them the blobs could not be read). The caller keeps garbage
collection paused while :func:`save` runs, so no referenced blob
disappears before it is copied. :func:`load` unpacks a snapshot into an empty data directory; the
next start migrates its schema if it came from an older kumoi.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.sqlite.engine import Database
from kumoi.storage.meta.sqlite.s3 import load_manifest

META_NAME = "meta.sqlite3"
_LEDGER_TABLES = frozenset({"blob_intents", "blob_garbage"})
FORMAT = 1


class SnapshotError(ValueError):
    """The file is not a kumoi snapshot, or the target directory is not empty."""


async def save(
    db: Database, blobs: LocalBlobStore, target: Path, version: str, secrets: Path | None = None
) -> int:
    """Write a snapshot to ``target``, with the files of ``secrets``; returns the number of blobs in it."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        copy = Path(tmp) / META_NAME
        await db.read(_backup_to(copy))
        return await blobs.run(_write_tar, target, copy, blobs.path_of, version, secrets)


def _backup_to(copy: Path) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        destination = sqlite3.connect(copy)
        try:
            conn.backup(destination)
        finally:
            destination.close()

    return job


def _referenced_blobs(path: Path) -> list[str]:
    """Blob ids the records of the copied database reference: ``*blob_id*`` columns and multipart
    manifests, skipping the blob ledger (intents may name blobs still being written, garbage is
    unreferenced by definition)."""
    conn = sqlite3.connect(path)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        referenced: set[str] = set()
        for table in tables:
            if table in _LEDGER_TABLES:
                continue
            for column in conn.execute(f'PRAGMA table_info("{table}")'):
                name = column[1]
                values = conn.execute(f'SELECT "{name}" FROM "{table}" WHERE "{name}" IS NOT NULL')
                if "blob_id" in name:
                    referenced.update(row[0] for row in values)
                elif name == "manifest":
                    referenced.update(blob_id for (text,) in values for blob_id, _size in load_manifest(text))
        return sorted(referenced)
    finally:
        conn.close()


def _write_tar(
    target: Path, meta: Path, path_of: Callable[[str], Path], version: str, secrets: Path | None
) -> int:
    blob_ids = _referenced_blobs(meta)
    secret_files = sorted(p for p in secrets.iterdir() if p.is_file()) if secrets and secrets.is_dir() else []
    manifest = {"format": FORMAT, "kumoi": version, "created": time.time(), "blobs": len(blob_ids)}
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(meta, META_NAME)
        for blob_id in blob_ids:
            tar.add(path_of(blob_id), f"blobs/{blob_id}")
        for path in secret_files:
            tar.add(path, f"secrets/{path.name}")
    partial.replace(target)
    return len(blob_ids)


def load(snapshot: Path, data_dir: Path, secrets: Path | None = None) -> int:
    """Unpack ``snapshot`` into ``data_dir`` (which must be empty or absent) and its secrets into
    ``secrets`` (owner-only permissions); returns the blob count."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SnapshotError(f"{data_dir} is not empty: load a snapshot into an empty data directory")
    blobs = LocalBlobStore(data_dir / "blobs")
    with _open(snapshot) as tar:
        members = {member.name: member for member in tar.getmembers() if member.isfile()}
        manifest_member = members.get("manifest.json")
        if manifest_member is None or META_NAME not in members:
            raise SnapshotError(f"{snapshot} is not a kumoi snapshot (no manifest or metadata)")
        manifest = json.load(tar.extractfile(manifest_member))  # type: ignore[arg-type]
        if manifest.get("format") != FORMAT:
            raise SnapshotError(f"{snapshot} has snapshot format {manifest.get('format')}, expected {FORMAT}")
        data_dir.mkdir(parents=True, exist_ok=True)
        _extract(tar, members[META_NAME], data_dir / META_NAME)
        count = 0
        for name, member in members.items():
            if name.startswith("blobs/"):
                target = blobs.path_of(name.removeprefix("blobs/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                _extract(tar, member, target)
                count += 1
            elif name.startswith("secrets/") and secrets is not None:
                secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
                target = secrets / Path(name).name
                _extract(tar, member, target)
                target.chmod(0o600)
    return count


def _open(snapshot: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(snapshot)
    except (OSError, tarfile.TarError) as exc:
        raise SnapshotError(f"{snapshot} is not a kumoi snapshot: {exc}") from exc


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    assert source is not None
    with source, target.open("wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
