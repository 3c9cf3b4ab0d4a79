"""With ``upload_expiry_seconds`` set, the multipart expiry task aborts old uploads and queues
their parts' blobs as garbage; by default (as S3 without a lifecycle rule) nothing expires."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kumoi.auth.credentials import StaticCredentials
from kumoi.auth.post_policy import PostPolicyVerifier
from kumoi.config import load_settings
from kumoi.core.clock import Clock
from kumoi.runtime.wiring import s3 as s3_wiring
from kumoi.runtime.wiring.deps import Deps
from kumoi.services.s3.provider import S3Provider
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.contract import BucketRecord, PartRecord, UploadRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore

UPLOAD_EXPIRY_SECONDS = 7 * 24 * 3600


def test_expired_uploads_are_aborted(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock(adjustable=True)
        meta = SqliteMetadataStore(tmp_path / "meta.db", clock=clock)
        blobs = LocalBlobStore(tmp_path / "blobs")
        await meta.start()
        await blobs.start()
        try:
            provider = S3Provider(meta, blobs, clock, PostPolicyVerifier(StaticCredentials(), clock))
            await meta.s3.create_bucket(BucketRecord("bkt", "000000000000", "us-east-1", clock.now()))
            await meta.s3.create_upload(UploadRecord("old", "bkt", "k", clock.now()))
            part = PartRecord("old", 1, 1, '"e"', "a" * 32, clock.now())
            await meta.s3.put_part(part)
            assert await provider.expire_uploads(UPLOAD_EXPIRY_SECONDS) == 0
            clock.advance(UPLOAD_EXPIRY_SECONDS / 2)
            await meta.s3.create_upload(UploadRecord("young", "bkt", "k", clock.now()))
            clock.advance(UPLOAD_EXPIRY_SECONDS / 2 + 1)
            assert await provider.expire_uploads(UPLOAD_EXPIRY_SECONDS) == 1
            assert await meta.s3.get_upload("old") is None
            assert await meta.s3.get_upload("young") is not None
            assert await meta.take_garbage() == ["a" * 32]
        finally:
            await blobs.close()
            await meta.close()

    asyncio.run(main())


def test_uploads_never_expire_by_default() -> None:
    assert load_settings({}, {}).upload_expiry_seconds == 0
    assert load_settings({}, {"KUMOI_UPLOAD_EXPIRY_SECONDS": "3600"}).upload_expiry_seconds == 3600


@pytest.mark.parametrize(("seconds", "expected"), [(0, False), (-5, False), (3600, True)])
def test_the_expiry_task_runs_only_when_uploads_expire(tmp_path: Path, seconds: int, expected: bool) -> None:
    settings = load_settings({"data_dir": tmp_path, "upload_expiry_seconds": seconds}, {})
    clock = Clock()
    meta = SqliteMetadataStore(tmp_path / "meta.db", clock=clock)
    deps = Deps(settings, clock, meta, LocalBlobStore(tmp_path / "blobs"), StaticCredentials())
    names = [task.name for task in s3_wiring.binding(deps).tasks]
    assert ("s3 multipart upload expiry" in names) is expected
