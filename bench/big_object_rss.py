"""Server memory while one large object goes up and comes back down (issue 3: RSS growth under
64 MiB for a 5 GiB object), with boto3's managed transfer (parallel multipart upload, parallel
ranged GETs), against a real server that seals the object at rest (the default).

    python bench/big_object_rss.py [--size-gib 5] [--part-mib 8] [--concurrency 10] [--out results.json]

The server's RSS (its whole process tree) is sampled every 50 ms; growth is the peak during each
transfer minus the RSS right before it, after a warm-up that moves a small object the same way
(imports and thread pools are loaded lazily); ``peak_growth_over_start_mib`` counts from the
RSS of the fresh server instead. The source file is written to ``--source-dir`` (default
/dev/shm, so the client's disk reads do not compete with the server's writes) and removed after;
the download is hashed as it arrives and never stored. Needs several GiB free on the data
directory's disk.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from boto3.s3.transfer import TransferConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from tests.support.server import ServerProcess, start_server

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.05


class RssSampler:
    """The peak RSS of a process and its children while running."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return int(total)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


class HashingSink:
    """A write-only file that keeps only the MD5 of what it is given (boto3 writes in order)."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return len(data)


def make_source(path: Path, size_gib: int) -> str:
    """A file of ``size_gib`` GiB (a random 64 MiB block repeated); returns its MD5."""
    block = os.urandom(64 * MIB)
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("wb") as out:
        for _ in range(size_gib * 16):
            out.write(block)
            digest.update(block)
    return digest.hexdigest()


def measure(label: str, server: ServerProcess, action: Callable[[], None], size: int) -> dict[str, float]:
    sampler = RssSampler(server.process.pid)
    before = sampler.rss()
    began = time.perf_counter()
    with sampler:
        action()
    seconds = time.perf_counter() - began
    return {
        f"{label}_seconds": round(seconds, 1),
        f"{label}_mib_s": round(size / MIB / seconds),
        f"{label}_rss_before_mib": round(before / MIB, 1),
        f"{label}_rss_peak_mib": round(sampler.peak / MIB, 1),
        f"{label}_rss_growth_mib": round((sampler.peak - before) / MIB, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=int, default=5)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--source-dir", type=Path, default=Path("/dev/shm"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = TransferConfig(
        multipart_threshold=args.part_mib * MIB,
        multipart_chunksize=args.part_mib * MIB,
        max_concurrency=args.concurrency,
    )
    results: dict[str, object] = {"size_gib": args.size_gib, "part_mib": args.part_mib}
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(dir=args.source_dir) as src:
        source = Path(src) / "source"
        source_md5 = make_source(source, args.size_gib)
        size = source.stat().st_size
        server = start_server(Path(tmp) / "data", args=("--log-level", "warning"))
        try:
            s3 = server.client("s3", max_pool_connections=args.concurrency + 2)
            s3.create_bucket(Bucket="big")
            start_mib = results["rss_at_start_mib"] = round(RssSampler(server.process.pid).rss() / MIB, 1)
            # Warm up (lazy imports, thread pools) with the same transfers of a small object, so
            # the growth below is what the object's size costs.
            warm = Path(src) / "warm"
            warm.write_bytes(os.urandom(4 * args.part_mib * MIB))
            s3.upload_file(str(warm), "big", "warm", Config=config)
            s3.download_fileobj("big", "warm", HashingSink(), Config=config)
            warm.unlink()
            upload = measure(
                "upload", server, lambda: s3.upload_file(str(source), "big", "obj", Config=config), size
            )
            source.unlink()
            sink = HashingSink()
            download = measure(
                "download", server, lambda: s3.download_fileobj("big", "obj", sink, Config=config), size
            )
            results.update(upload)
            results.update(download)
            results["download_md5_ok"] = sink.size == size and sink.md5.hexdigest() == source_md5
            peaks = (upload["upload_rss_peak_mib"], download["download_rss_peak_mib"])
            results["peak_growth_over_start_mib"] = round(max(peaks) - start_mib, 1)
        finally:
            server.stop()
    report(results, args.out)


if __name__ == "__main__":
    main()
