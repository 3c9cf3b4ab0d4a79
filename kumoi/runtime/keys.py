"""Master keys for encryption at rest, and ``kumoi keys rotate``.

The master key wraps every data key (see :mod:`kumoi.storage.blob.crypto`). By default kumoi keeps
its keys in ``<data-dir>/keys/``: one ``<id>.key`` file (base64, mode 0600) per key and an
``active`` file naming the key new data keys are wrapped by; the first start creates one.
``--master-key-file`` names a file holding the active key instead (so it can live on another
volume or come from a secret store); keys in ``<data-dir>/keys/`` still open older data.
A key's id is derived from the key, so a header names the key that wrapped it.

Rotation (server stopped): a new key becomes active, every sealed blob header and every sealed
inline object is rewrapped under it — the data chunks are never read or rewritten — and once
nothing refers to the old keys their files are removed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kumoi.storage.blob import crypto
from kumoi.storage.snapshot import META_NAME

KEYS_DIR = "keys"
ACTIVE_NAME = "active"
KEY_SUFFIX = ".key"
#: Inline objects rewrapped per SQLite transaction.
INLINE_BATCH = 500
_ID_CONTEXT = b"kumoi master key id"


class MasterKeyError(ValueError):
    """A key file that cannot be used."""


def key_from_text(text: str) -> crypto.MasterKey:
    """A master key from its base64 text (32 bytes); its id is derived from it."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != crypto.KEY_SIZE:
        raise MasterKeyError(f"a master key must be {crypto.KEY_SIZE} bytes in base64")
    return crypto.MasterKey(hashlib.sha256(_ID_CONTEXT + key).digest()[: crypto.KEY_ID_SIZE], key)


def new_master_key() -> crypto.MasterKey:
    return key_from_text(base64.b64encode(crypto.MasterKey.generate().key).decode())


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably, readable by the owner only."""
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _stored_keys(keys_dir: Path) -> dict[bytes, crypto.MasterKey]:
    keys: dict[bytes, crypto.MasterKey] = {}
    if keys_dir.is_dir():
        for path in keys_dir.glob(f"*{KEY_SUFFIX}"):
            key = key_from_text(path.read_text())
            keys[key.key_id] = key
    return keys


def _save_key(keys_dir: Path, key: crypto.MasterKey, *, active: bool) -> None:
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_private(keys_dir / f"{key.key_id.hex()}{KEY_SUFFIX}", base64.b64encode(key.key).decode() + "\n")
    if active:
        _write_private(keys_dir / ACTIVE_NAME, key.key_id.hex() + "\n")


def load_keyring(data_dir: Path, master_key_file: str = "", *, create: bool = True) -> crypto.Keyring | None:
    """The keyring of a data directory (``None`` if it has none and ``create`` is false)."""
    keys_dir = data_dir / KEYS_DIR
    stored = _stored_keys(keys_dir)
    if master_key_file:
        active = key_from_text(Path(master_key_file).read_text())
    elif (keys_dir / ACTIVE_NAME).exists():
        active_id = bytes.fromhex((keys_dir / ACTIVE_NAME).read_text().strip())
        if active_id not in stored:
            raise MasterKeyError(f"the active master key {active_id.hex()} is missing from {keys_dir}")
        active = stored[active_id]
    elif create:
        active = new_master_key()
        _save_key(keys_dir, active, active=True)
    else:
        return None
    others = tuple(key for key_id, key in stored.items() if key_id != active.key_id)
    return crypto.Keyring(active, others)


@dataclass(slots=True)
class Rotation:
    """What a rotation did."""

    key_id: str
    blobs: int = 0
    inline: int = 0
    failed: int = 0
    retired: int = 0


def rotate(data_dir: Path, master_key_file: str = "", new_key_file: str = "") -> Rotation:
    """Make a new master key active and rewrap every data key under it (server stopped)."""
    old = load_keyring(data_dir, master_key_file)
    assert old is not None
    new = key_from_text(Path(new_key_file).read_text()) if new_key_file else new_master_key()
    keys_dir = data_dir / KEYS_DIR
    if not new_key_file:
        _save_key(keys_dir, new, active=True)
    previous = (old.active, *(old.get(k) for k in _stored_keys(keys_dir) if k != new.key_id))
    keyring = crypto.Keyring(new, tuple(key for key in previous if key.key_id != new.key_id))
    report = Rotation(new.key_id.hex())
    _rewrap_blobs(data_dir / "blobs" / "blobs", keyring, report)
    _rewrap_inline(data_dir / META_NAME, keyring, report)
    if report.failed == 0:
        for key in previous:
            path = keys_dir / f"{key.key_id.hex()}{KEY_SUFFIX}"
            if key.key_id != new.key_id and path.exists():
                path.unlink()
                report.retired += 1
    return report


def _rewrap_blobs(blobs_dir: Path, keyring: crypto.Keyring, report: Rotation) -> None:
    if not blobs_dir.is_dir():
        return
    for path in blobs_dir.glob("*/*/*"):
        fd = os.open(path, os.O_RDWR)
        try:
            header = os.pread(fd, crypto.HEADER_SIZE, 0)
            try:
                rewrapped = crypto.rewrap_header(header, keyring)
            except crypto.UnknownMasterKey:
                report.failed += 1
                continue
            except crypto.DecryptionError:
                # An unsealed blob (written before encryption, or in plaintext mode).
                continue
            if rewrapped is not None:
                os.pwrite(fd, rewrapped, 0)
                os.fsync(fd)
                report.blobs += 1
        finally:
            os.close(fd)


#: Tables whose rows keep small objects' bytes inline: current objects, and older versions.
INLINE_TABLES = ("objects", "object_versions")


def _rewrap_inline(meta_path: Path, keyring: crypto.Keyring, report: Rotation) -> None:
    if not meta_path.exists():
        return
    with contextlib.closing(sqlite3.connect(meta_path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in INLINE_TABLES:
            if table in tables:
                _rewrap_table(db, table, keyring, report)


def _rewrap_table(db: sqlite3.Connection, table: str, keyring: crypto.Keyring, report: Rotation) -> None:
    after = 0
    while True:
        rows = db.execute(
            f"SELECT rowid, inline FROM {table} WHERE rowid > ? AND inline IS NOT NULL "
            "AND json_extract(attrs, '$.Encryption.Sealed') = 1 ORDER BY rowid LIMIT ?",
            (after, INLINE_BATCH),
        ).fetchall()
        if not rows:
            return
        with db:
            for rowid, inline in rows:
                after = rowid
                try:
                    rewrapped = crypto.rewrap_header(inline[: crypto.HEADER_SIZE], keyring)
                except crypto.DecryptionError:
                    report.failed += 1
                    continue
                if rewrapped is not None:
                    db.execute(
                        f"UPDATE {table} SET inline = ? WHERE rowid = ?",
                        (rewrapped + inline[crypto.HEADER_SIZE :], rowid),
                    )
                    report.inline += 1
