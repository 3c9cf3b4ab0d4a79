"""Real clients: the aws CLI (s3 and s3api) and boto3's managed transfer with parallel multipart."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

MIB = 1024 * 1024
CLI_TIMEOUT = 120


def aws(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["aws", *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"aws {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def test_aws_cli_cp_sync_ls_rm(cli_env: dict[str, str], s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "tree"
    (source / "sub dir").mkdir(parents=True)
    files = {"a.txt": b"alpha", "sub dir/b.bin": os.urandom(3000), "big.bin": os.urandom(9 * MIB)}
    for name, data in files.items():
        (source / name).write_bytes(data)
    aws(cli_env, "s3", "sync", str(source), f"s3://{bucket}/tree")
    listed = aws(cli_env, "s3", "ls", "--recursive", f"s3://{bucket}/tree/")
    assert all(f"tree/{name}" in listed for name in files)
    # Sync again: nothing changed, nothing copied.
    assert "upload:" not in aws(cli_env, "s3", "sync", str(source), f"s3://{bucket}/tree")
    big = s3.head_object(Bucket=bucket, Key="tree/big.bin")
    assert big["ETag"].endswith('-2"'), "the CLI uploads 9 MiB in two 8 MiB-chunked parts"
    target = tmp_path / "back"
    aws(cli_env, "s3", "cp", "--recursive", f"s3://{bucket}/tree", str(target))
    for name, data in files.items():
        assert (target / name).read_bytes() == data
    aws(cli_env, "s3", "cp", str(source / "a.txt"), f"s3://{bucket}/single.txt")
    head = json.loads(aws(cli_env, "s3api", "head-object", "--bucket", bucket, "--key", "single.txt"))
    assert head["ContentLength"] == 5
    aws(cli_env, "s3", "rm", "--recursive", f"s3://{bucket}/tree")
    remaining = json.loads(aws(cli_env, "s3api", "list-objects-v2", "--bucket", bucket))
    assert [o["Key"] for o in remaining["Contents"]] == ["single.txt"]


def test_boto3_managed_transfer(s3: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(21 * MIB + 5)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(source), bucket, "managed.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="managed.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-5"')
    target = tmp_path / "download.bin"
    s3.download_file(bucket, "managed.bin", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
