"""A 1 GiB PutObject/GetObject streams through the server in flat memory."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.server import ServerProcess

SIZE = 1024**3
BLOCK = 1024**2
MAX_RSS_GROWTH = 64 * 1024**2


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)


def write_source(path: Path) -> str:
    digest = hashlib.md5()
    block = bytes(range(256)) * (BLOCK // 256)
    with path.open("wb") as out:
        for n in range(SIZE // BLOCK):
            chunk = n.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


@pytest.mark.slow
def test_one_gib_round_trip_in_flat_memory(server: ServerProcess, s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    expected = write_source(source)
    s3.create_bucket(Bucket="large-objects")
    sampler = RssSampler(server.process.pid)
    sampler.start()
    try:
        with source.open("rb") as body:
            put = s3.put_object(Bucket="large-objects", Key="one-gib", Body=body)
        source.unlink()
        assert put["ETag"] == f'"{expected}"'
        got = s3.get_object(Bucket="large-objects", Key="one-gib")
        digest = hashlib.md5()
        received = 0
        for chunk in got["Body"].iter_chunks(BLOCK):
            digest.update(chunk)
            received += len(chunk)
    finally:
        sampler.done.set()
        sampler.join()
    assert received == SIZE
    assert digest.hexdigest() == expected
    growth = sampler.peak - sampler.baseline
    assert growth < MAX_RSS_GROWTH, f"server RSS grew by {growth / 1024**2:.0f} MiB"
