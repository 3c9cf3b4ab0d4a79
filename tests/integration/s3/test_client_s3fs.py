"""s3fs (fsspec over aiobotocore) against the real server, run in a virtualenv of its own."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.s3fs_remote import RemoteError, RemoteS3fs, remote_s3fs
from tests.support.server import ServerProcess

from .conftest import unique

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def fs(server: ServerProcess) -> Iterator[RemoteS3fs]:
    with remote_s3fs(server.endpoint, "test", "test", "us-east-1") as remote:
        yield remote


def raises(kind: str, fs: RemoteS3fs, op: str, *args: Any, **kwargs: Any) -> RemoteError:
    with pytest.raises(RemoteError) as excinfo:
        fs.call(op, *args, **kwargs)
    assert excinfo.value.kind == kind, excinfo.value
    return excinfo.value


def test_put_get_ls_info_exists_rm(fs: RemoteS3fs, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(70_000)
    source = tmp_path / "a.bin"
    source.write_bytes(data)
    fs.call("put_file", str(source), f"{bucket}/dir/a.bin")
    fs.call("pipe_file", f"{bucket}/dir/sub/b.txt", b"bee")
    fs.call("pipe_file", f"{bucket}/top.txt", b"top")
    assert fs.call("ls", bucket, detail=False) == [f"{bucket}/dir", f"{bucket}/top.txt"]
    listed = fs.call("ls", f"{bucket}/dir", detail=True)
    assert [(entry["name"], entry["type"]) for entry in listed] == [
        (f"{bucket}/dir/a.bin", "file"),
        (f"{bucket}/dir/sub", "directory"),
    ]
    info = fs.call("info", f"{bucket}/dir/a.bin")
    assert info["size"] == len(data) and info["type"] == "file"
    assert info["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert fs.call("info", f"{bucket}/dir")["type"] == "directory"
    assert fs.call("exists", f"{bucket}/dir/a.bin") and fs.call("exists", f"{bucket}/dir/sub")
    assert not fs.call("exists", f"{bucket}/dir/nope") and not fs.call("exists", f"{bucket}/di")
    assert fs.call("isdir", f"{bucket}/dir") and fs.call("isfile", f"{bucket}/top.txt")
    target = tmp_path / "back.bin"
    fs.call("get_file", f"{bucket}/dir/a.bin", str(target))
    assert target.read_bytes() == data
    assert s3.get_object(Bucket=bucket, Key="dir/sub/b.txt")["Body"].read() == b"bee"
    raises("FileNotFoundError", fs, "cat_file", f"{bucket}/dir/nope")
    raises("FileNotFoundError", fs, "info", f"{bucket}/dir/nope")
    raises("FileNotFoundError", fs, "ls", unique("no-such-bucket"))

    fs.call("rm", f"{bucket}/top.txt")
    assert not fs.call("exists", f"{bucket}/top.txt")
    fs.call("rm", f"{bucket}/dir", recursive=True)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_cat_ranges_and_seeking_reads(fs: RemoteS3fs, s3: Any, bucket: str) -> None:
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="blob", Body=data)
    path = f"{bucket}/blob"
    assert fs.call("cat_file", path) == data
    assert fs.call("cat_file", path, start=10, end=20) == data[10:20]
    assert fs.call("cat_file", path, start=-100) == data[-100:]
    assert fs.call("cat_file", path, start=299_990, end=400_000) == data[299_990:]
    starts, ends = [0, 65_536, 299_000], [10, 70_000, 300_000]
    assert fs.call("cat_ranges", [path] * 3, starts, ends) == [
        data[a:b] for a, b in zip(starts, ends, strict=True)
    ]
    # Parquet-style access: the footer first, then a column chunk in the middle.
    footer, middle, rest = fs.call("read_at", path, [[-8, 2, 8], [1000, 0, 5000], [-10, 1, 20]], 4096)
    assert footer == data[-8:] and middle == data[1000:6000] and rest == data[5990:6010]
    assert fs.call("head", path, 7) == data[:7] and fs.call("tail", path, 7) == data[-7:]


def test_find_walk_glob_du(fs: RemoteS3fs, s3: Any, bucket: str) -> None:
    keys = ["t/a.txt", "t/b.csv", "t/x/c.txt", "t/x/y/d.txt", "t/x/y/e.csv", "t/with space/f.txt"]
    for n, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * (n + 1))
    root = f"{bucket}/t"
    assert fs.call("find", root) == sorted(f"{bucket}/{key}" for key in keys)
    with_dirs = fs.call("find", root, withdirs=True)
    assert {f"{root}/x", f"{root}/x/y", f"{root}/with space"} <= set(with_dirs)
    assert fs.call("find", root, maxdepth=1) == [f"{root}/a.txt", f"{root}/b.csv"]
    walked = {top: (sorted(dirs), sorted(files)) for top, dirs, files in fs.call("walk", root)}
    assert walked == {
        root: (["with space", "x"], ["a.txt", "b.csv"]),
        f"{root}/with space": ([], ["f.txt"]),
        f"{root}/x": (["y"], ["c.txt"]),
        f"{root}/x/y": ([], ["d.txt", "e.csv"]),
    }
    assert fs.call("glob", f"{root}/*.txt") == [f"{root}/a.txt"]
    assert fs.call("glob", f"{root}/**/*.csv") == [f"{root}/b.csv", f"{root}/x/y/e.csv"]
    assert fs.call("glob", f"{root}/x/*/d.*") == [f"{root}/x/y/d.txt"]
    assert fs.call("du", root) == sum(range(1, len(keys) + 1))


def test_open_for_writing_switches_to_multipart(fs: RemoteS3fs, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(12 * MIB + 5)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    result = fs.call("write_in_blocks", f"{bucket}/big.bin", str(source), MIB, 5 * MIB)
    assert result == {"written": len(data)}
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"'), "5 MiB blocks: 12 MiB + 5 bytes is three parts"
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    # put_file goes multipart at twice its chunk size, with parts uploaded concurrently.
    fs.call("put_file", str(source), f"{bucket}/put.bin", chunksize=5 * MIB)
    assert s3.head_object(Bucket=bucket, Key="put.bin")["ETag"].endswith('-3"')
    target = tmp_path / "back.bin"
    fs.call("get_file", f"{bucket}/put.bin", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_copy_move_metadata_tags_url_and_exclusive_create(fs: RemoteS3fs, s3: Any, bucket: str) -> None:
    fs.call("pipe_file", f"{bucket}/src.txt", b"payload", ContentType="text/plain")
    fs.call("copy", f"{bucket}/src.txt", f"{bucket}/copied.txt")
    fs.call("mv", f"{bucket}/copied.txt", f"{bucket}/moved.txt")
    assert fs.call("find", bucket) == [f"{bucket}/moved.txt", f"{bucket}/src.txt"]
    assert fs.call("cat_file", f"{bucket}/moved.txt") == b"payload"

    # setxattr copies the object onto itself with REPLACE, which replaces Content-Type too.
    fs.call(
        "setxattr",
        f"{bucket}/src.txt",
        copy_kwargs={"ContentType": "text/plain"},
        color="blue",
        owner_name="me",
    )
    assert fs.call("getxattr", f"{bucket}/src.txt", "color") == "blue"
    head = s3.head_object(Bucket=bucket, Key="src.txt")
    assert head["Metadata"] == {"color": "blue", "owner-name": "me"}
    assert head["ContentType"] == "text/plain"

    fs.call("put_tags", f"{bucket}/src.txt", {"team": "data", "tier": "hot"})
    assert fs.call("get_tags", f"{bucket}/src.txt") == {"team": "data", "tier": "hot"}

    with urllib.request.urlopen(fs.call("url", f"{bucket}/src.txt", expires=60), timeout=10) as response:
        assert response.read() == b"payload"

    # mode="create" sends If-None-Match: * (s3fs maps the 412 to FileExistsError).
    raises("FileExistsError", fs, "pipe_file", f"{bucket}/src.txt", b"other", mode="create")
    fs.call("pipe_file", f"{bucket}/fresh.txt", b"new", mode="create")
    assert s3.get_object(Bucket=bucket, Key="src.txt")["Body"].read() == b"payload"


def test_buckets_as_top_level_directories(fs: RemoteS3fs, s3: Any) -> None:
    name = unique("s3fs")
    # s3fs sends the region it is given as the LocationConstraint; S3 refuses us-east-1 there.
    error = raises("OSError", fs, "mkdir", name, region_name="us-east-1")
    assert "location-constraint is not valid" in error.message
    fs.call("mkdir", name)
    assert name in [entry["Name"] for entry in s3.list_buckets()["Buckets"]]
    assert name in fs.call("ls", "", detail=False)
    raises("FileExistsError", fs, "mkdir", name)
    fs.call("touch", f"{name}/empty")
    assert fs.call("info", f"{name}/empty")["size"] == 0
    fs.call("rm", f"{name}/empty")
    fs.call("rmdir", name)
    assert not fs.call("exists", name)
