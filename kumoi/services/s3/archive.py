"""Archive tiers: GLACIER and DEEP_ARCHIVE objects, their archive blob and their restored copy.

An object of an archive class cannot be read (``InvalidObjectState``) until a restore has made a
temporary copy. Its data is moved into one compressed archive blob
(:mod:`kumoi.storage.blob.archive`) by :func:`archive_object`, right after a write that asks for an
archive class and by the lifecycle worker for a transition; the swap is one metadata transaction,
so a crash before it leaves the object as it was (the unreferenced archive blob is removed by
start-up recovery through its write intent; a restore request, or the lifecycle worker, moves the
data later) and after it leaves it archived.

``attrs["Archive"]`` describes the archive blob: ``Parts``, the (plaintext, stored) sizes of the
original inline value, blob or manifest blobs, and ``Multipart``. ``attrs["Restore"]`` is the
restore state HEAD shows: ``Ongoing``, ``Tier``, ``Days``, and once done ``Expiry`` and ``Copies``
(the restored blobs with their plaintext sizes). A restored copy has the original's stored bytes
and part boundaries, so reads (ranges, part numbers, decryption) go through the usual paths on
:func:`readable`'s view of the record.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.s3.lifecycle_rules import ARCHIVE_CLASSES, http_date
from kumoi.storage.blob.archive import ArchiveWriter, read_raw, unpack
from kumoi.storage.blob.contract import BlobStore, BlobWriter
from kumoi.storage.meta.contract import (
    BlobPart,
    ConditionFailed,
    MetadataStore,
    ObjectMissing,
    ObjectRecord,
    S3EventRow,
)

log = logging.getLogger("kumoi.s3.archive")

__all__ = ["ARCHIVE_CLASSES", "archive_object", "readable", "restore_copies"]

ARCHIVE = "Archive"
RESTORE = "Restore"


def storage_class(record: ObjectRecord) -> str:
    return str(record.attrs.get("StorageClass", "STANDARD"))


def is_archived(record: ObjectRecord) -> bool:
    return storage_class(record) in ARCHIVE_CLASSES


def invalid_object_state(record: ObjectRecord) -> ServiceError:
    return ServiceError(
        "InvalidObjectState",
        "The operation is not valid for the object's storage class",
        status=403,
        fields={"StorageClass": storage_class(record)},
    )


def restored(record: ObjectRecord, now: float) -> bool:
    state = record.attrs.get(RESTORE) or {}
    return not state.get("Ongoing", True) and float(state.get("Expiry", 0)) > now


def readable(record: ObjectRecord, now: float) -> ObjectRecord:
    """``record`` as a read sees it: itself, or for an archived object its restored copy; raise
    ``InvalidObjectState`` for an archived object without one."""
    if not is_archived(record):
        return record
    if not restored(record, now):
        raise invalid_object_state(record)
    archive = record.attrs[ARCHIVE]
    copies = [BlobPart(blob_id, size) for blob_id, size in record.attrs[RESTORE]["Copies"]]
    if archive.get("Multipart"):
        return dataclasses.replace(record, blob_id=None, inline=None, manifest=copies)
    return dataclasses.replace(record, blob_id=copies[0].blob_id, inline=None, manifest=None)


def restore_header(record: ObjectRecord) -> str | None:
    """``x-amz-restore``: ``ongoing-request="true"``, or ``"false"`` with the copy's expiry."""
    state = record.attrs.get(RESTORE)
    if not state:
        return None
    if state.get("Ongoing"):
        return 'ongoing-request="true"'
    return f'ongoing-request="false", expiry-date="{http_date(float(state["Expiry"]))}"'


async def _new_writer(meta: MetadataStore, blobs: BlobStore) -> BlobWriter:
    writer = blobs.new_writer()
    await meta.record_blob_intent(writer.blob_id)
    return writer


async def _abandon(meta: MetadataStore, blobs: BlobStore, writers: Sequence[BlobWriter]) -> None:
    for writer in writers:
        await writer.abort()
        await blobs.delete(writer.blob_id)
    await meta.clear_blob_intents([writer.blob_id for writer in writers])


async def archive_object(
    meta: MetadataStore,
    blobs: BlobStore,
    record: ObjectRecord,
    patch: dict[str, Any] | None = None,
    events: Sequence[S3EventRow] = (),
) -> bool:
    """Move ``record``'s stored bytes into a new archive blob and make the object reference it
    (with ``patch`` applied to its attrs); False when the object changed meanwhile."""
    writer = await _new_writer(meta, blobs)
    packer = ArchiveWriter(writer)
    parts: list[list[int]] = []
    try:
        if record.inline is not None:
            await packer.add(record.inline)
            parts.append([record.size, len(record.inline)])
        else:
            sources = record.manifest or [BlobPart(record.blob_id or "", record.size)]
            for part in sources:
                stored = 0
                async for chunk in read_raw(blobs, part.blob_id):
                    stored += len(chunk)
                    await packer.add(chunk)
                parts.append([part.size, stored])
        info = await packer.commit()
    except BaseException:
        await _abandon(meta, blobs, [writer])
        raise
    attrs: dict[str, Any] = dict(patch or {})
    attrs[ARCHIVE] = {"Parts": parts, "Multipart": record.manifest is not None, "Stored": info.size}
    try:
        await meta.s3_archive.archive_object(
            record.bucket,
            record.key,
            record.etag,
            record.blob_ids(),
            info.blob_id,
            attrs,
            version_id=record.version_id,
            events=events,
        )
    except (ObjectMissing, ConditionFailed):
        await blobs.delete(info.blob_id)
        await meta.clear_blob_intents([info.blob_id])
        return False
    return True


async def archive_after_write(meta: MetadataStore, blobs: BlobStore, record: ObjectRecord) -> None:
    """Archive an object just written with an archive class. A failure leaves its data in place (a
    restore request or the lifecycle worker archives it later), so it is logged, not raised."""
    if not is_archived(record):
        return
    try:
        await archive_object(meta, blobs, record)
    except Exception:
        log.exception("archiving %s/%s failed; the lifecycle worker will retry", record.bucket, record.key)


async def restore_copies(meta: MetadataStore, blobs: BlobStore, record: ObjectRecord) -> list[BlobPart]:
    """Unpack ``record``'s archive into new blobs (under write intents), one per original part."""
    if record.blob_id is None or ARCHIVE not in record.attrs:
        raise ValueError(f"{record.bucket}/{record.key} has no archive to restore from")
    parts: list[list[int]] = record.attrs[ARCHIVE]["Parts"]
    writers: list[BlobWriter] = []
    copies: list[BlobPart] = []
    try:
        for _ in parts:
            writers.append(await _new_writer(meta, blobs))
        async for index, chunk in unpack(blobs, record.blob_id, [stored for _plain, stored in parts]):
            await writers[index].write(chunk)
        for writer, (plain, _stored) in zip(writers, parts, strict=True):
            info = await writer.commit()
            copies.append(BlobPart(info.blob_id, plain))
    except BaseException:
        await _abandon(meta, blobs, writers)
        raise
    return copies
