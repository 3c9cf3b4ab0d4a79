"""Start-up recovery and blob garbage collection: the two places metadata and blobs meet.

The write protocol is: record an intent for the new blob id (durable), write and commit the blob,
then commit the record that references it, which clears the intent in the same transaction.
After a crash, an intent that is still pending names a blob that no record references: it may be
complete, half-written (then only its staging file exists, which the blob store's ``start``
removes) or absent. :func:`recover` deletes such blobs and clears their intents. It must run
before the service accepts writes, since an in-progress write also has a pending intent.

Blobs that records stopped referencing (overwritten or deleted objects) are queued as garbage by
the same transaction that dropped the reference; :func:`collect_garbage` deletes them in batches
and then forgets them, so a crash in between only repeats a harmless delete.
"""

from __future__ import annotations

from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import MetadataStore

#: Blob ids handled per batch by :func:`collect_garbage` when the caller sets no limit.
GC_BATCH = 1000


async def recover(meta: MetadataStore, blobs: BlobStore) -> int:
    """Delete the blobs of writes a crash cut short; return how many intents were cleared."""
    pending = await meta.pending_blob_intents()
    for blob_id in pending:
        await blobs.delete(blob_id)
    await meta.clear_blob_intents(pending)
    return len(pending)


async def collect_garbage(meta: MetadataStore, blobs: BlobStore, limit: int = GC_BATCH) -> int:
    """Delete up to ``limit`` unreferenced blobs; return how many were collected."""
    garbage = await meta.take_garbage(limit)
    for blob_id in garbage:
        await blobs.delete(blob_id)
    await meta.forget_garbage(garbage)
    return len(garbage)
