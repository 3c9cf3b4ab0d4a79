"""Master keys: objects stored unencrypted stay readable once encryption is on, ``kumoi keys
rotate`` rewraps every data key without rewriting object data, and a key given by file works."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from kumoi.storage.blob import crypto
from tests.support.cli import rotate_keys
from tests.support.server import ServerProcess, running_server

PART = 5 * 1024 * 1024
BUCKET = "keys"


def _blob_files(data_dir: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (data_dir / "blobs" / "blobs").glob("*/*/*")}


def _write(s3: Any, prefix: str, objects: dict[str, bytes]) -> None:
    for name in ("small", "large"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=objects[f"{prefix}/{name}"])
    key = f"{prefix}/mpu"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etags = []
    for number, body in enumerate((objects[key][:PART], objects[key][PART:]), 1):
        etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
        etags.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": etags})


def _check(server: ServerProcess, objects: dict[str, bytes]) -> None:
    s3 = server.client("s3")
    for key, data in objects.items():
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data, key
        assert s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=5-70004")["Body"].read() == data[5:70005]


def test_plaintext_objects_stay_readable_and_rotation_rewraps_headers_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    objects = {
        f"{prefix}/{name}": os.urandom(size)
        for prefix in ("plain", "sealed")
        for name, size in (("small", 3000), ("large", 200_000), ("mpu", PART + 777))
    }
    with running_server(data_dir, args=("--plaintext-at-rest",)) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        _write(s3, "plain", objects)
    plaintext_blobs = set(_blob_files(data_dir))
    with running_server(data_dir) as server:
        _write(server.client("s3"), "sealed", objects)
        _check(server, objects)
    before = {path: data for path, data in _blob_files(data_dir).items() if path not in plaintext_blobs}
    assert len(before) == 3
    assert all(data.startswith(crypto.MAGIC) for data in before.values())
    old_keys = sorted((data_dir / "keys").glob("*.key"))
    assert len(old_keys) == 1

    report = rotate_keys(data_dir)
    assert "rewrapped 3 blobs and 1 inline objects, 0 under unknown keys, 1 old keys removed" in report

    after = _blob_files(data_dir)
    for path, data in before.items():
        assert after[path][: crypto.HEADER_SIZE] != data[: crypto.HEADER_SIZE]
        assert after[path][crypto.HEADER_SIZE :] == data[crypto.HEADER_SIZE :]
    new_keys = sorted((data_dir / "keys").glob("*.key"))
    assert len(new_keys) == 1 and new_keys != old_keys
    with running_server(data_dir) as server:
        _check(server, objects)


def test_master_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    data_dir = tmp_path / "data"
    with running_server(data_dir, args=("--master-key-file", str(key_file))) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"under a file key")
    assert not (data_dir / "keys").exists()
    with running_server(data_dir, env={"KUMOI_MASTER_KEY_FILE": str(key_file)}) as server:
        assert server.client("s3").get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"under a file key"
