"""The multipart expiry task aborts old uploads and queues their parts' blobs as garbage."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kumoi.auth.credentials import StaticCredentials
from kumoi.auth.post_policy import PostPolicyVerifier
from kumoi.core.clock import Clock
from kumoi.services.s3.multipart import UPLOAD_EXPIRY_SECONDS
from kumoi.services.s3.provider import S3Provider
from kumoi.storage.blob.localfs import LocalBlobStore
from kumoi.storage.meta.contract import BucketRecord, PartRecord, UploadRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore


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
            assert await provider.expire_uploads() == 0
            clock.advance(UPLOAD_EXPIRY_SECONDS / 2)
            await meta.s3.create_upload(UploadRecord("young", "bkt", "k", clock.now()))
            clock.advance(UPLOAD_EXPIRY_SECONDS / 2 + 1)
            assert await provider.expire_uploads() == 1
            assert await meta.s3.get_upload("old") is None
            assert await meta.s3.get_upload("young") is not None
            assert await meta.take_garbage() == ["a" * 32]
        finally:
            await blobs.close()
            await meta.close()

    asyncio.run(main())
