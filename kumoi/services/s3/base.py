"""What every group of S3 operations shares: the stores, the clock, and the few steps they all take.

The provider is assembled from small operation groups (``buckets.py``, ``objects.py``,
``copy.py``, ``multipart.py``, ...), one level of mixins over :class:`S3Base`, so each file keeps
one feature and the dispatcher still finds every operation as a method of one object.

Writing object data: bodies up to :data:`INLINE_MAX` are read into memory and stored inline in the
metadata record (one group-committed write). Larger ones stream into a new blob under a write
intent (:meth:`S3Base.write_blob`): the record that references the blob clears the intent in its
own transaction, and on any failure the blob and the intent are removed at once (start-up
recovery removes what a crash leaves), so no half-written object is ever visible.

Encryption at rest: with a keyring every write is sealed (see :mod:`kumoi.services.s3.encryption`
for which key); :meth:`S3Base.sealer` gives the cipher a write streams its blob or inline bytes
through, and :meth:`S3Base.unseal` what a read of a sealed object needs.

Event notifications: a write that changes an object stores the rows :meth:`S3Base.events_for`
gives it in its own transaction (see :mod:`kumoi.services.s3.event_outbox`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.core.streams import DEFAULT_CHUNK, BodyStream, PayloadCheck, defer_check
from kumoi.services.s3 import encryption, errors, versioning
from kumoi.services.s3.content import Unseal
from kumoi.services.s3.event_message import ObjectFacts
from kumoi.services.s3.event_outbox import EventOutbox
from kumoi.services.s3.owner_condition import TARGET, check_owner, expected_owner
from kumoi.services.s3.requester_pays import check_payer
from kumoi.storage.blob import crypto
from kumoi.storage.blob.contract import BlobInfo, BlobStore
from kumoi.storage.meta.contract import BucketRecord, MetadataStore, ObjectRecord, S3EventRow

#: Largest object kept inline in the metadata store.
INLINE_MAX = 64 * 1024
#: Bytes asked of a request body per read.
READ_CHUNK = DEFAULT_CHUNK


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def etag_of(md5: bytes) -> str:
    return f'"{md5.hex()}"'


class S3Base:
    """The stores and helpers the operation groups build on."""

    #: ObjectOwnership of new buckets created without one (``--default-object-ownership``).
    default_ownership = "BucketOwnerEnforced"

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        clock: Clock,
        keyring: crypto.Keyring | None = None,
        *,
        seal_at_rest: bool = True,
        events: EventOutbox | None = None,
    ) -> None:
        self._meta = meta
        self._events = events or EventOutbox(meta.s3, clock)
        self._blobs = blobs
        self._clock = clock
        self._keyring = keyring
        self._seal_at_rest = seal_at_rest and keyring is not None

    def events_for(
        self, ctx: RequestContext, bucket: BucketRecord, event: str, record: ObjectRecord
    ) -> list[S3EventRow]:
        """The outbox rows of ``event`` (``s3:ObjectCreated:Put``) on ``record``, to store with it
        (with its version id in a bucket that has versioning)."""
        version = None if versioning.status(bucket) is None else versioning.wire_id(record.version_id)
        facts = ObjectFacts(record.key, record.size, record.etag, version)
        return self._events.prepare(ctx, bucket, event, facts)

    def write_encryption(
        self, ctx: RequestContext, bucket: BucketRecord, request: dict[str, Any]
    ) -> encryption.WriteEncryption:
        """How a write into ``bucket`` encrypts (its headers, else the bucket default)."""
        return encryption.for_write(
            request, bucket.config, bucket.region, ctx.account_id, sealing=self._seal_at_rest
        )

    def sealer(self, chosen: encryption.WriteEncryption) -> crypto.ChunkCipher | None:
        """The cipher a write seals its bytes with, ``None`` to store them as they are."""
        if chosen.customer is not None:
            return crypto.sealer_for_customer(chosen.customer.key)
        if chosen.attr.get("Sealed") and self._keyring is not None:
            return crypto.sealer_for_master(self._keyring)
        return None

    def unseal(self, record: ObjectRecord, request: dict[str, Any], prefix: str = "") -> Unseal:
        """What reading ``record`` needs, after checking the request's SSE-C key as S3 does."""
        customer = encryption.key_for_read(record.attrs.get(encryption.ATTR), request, prefix)
        return Unseal(self._keyring, customer)

    async def _bucket(self, ctx: RequestContext, name: str, *, owner_member: str = TARGET) -> BucketRecord:
        """The bucket ``name``, if the request may act on it (see :func:`_admit`); the request's
        ``owner_member`` names the account it expects to own the bucket, if any."""
        expected = expected_owner(ctx.params, owner_member)
        bucket = await self._meta.s3.get_bucket(name)
        if bucket is None:
            raise errors.no_such_bucket(name)
        await _admit(ctx, bucket, expected)
        return bucket

    async def _set_bucket_setting(self, bucket: BucketRecord, name: str, value: Any) -> None:
        """Store ``bucket``'s configuration with one setting (its CORS rules, tags, policy...)
        set to ``value``; every Put of a bucket subresource ends here."""
        await self._meta.s3.set_bucket_setting(bucket.name, name, value)

    async def _remove_bucket_setting(self, bucket: BucketRecord, name: str) -> None:
        """Store ``bucket``'s configuration without the setting ``name`` (nothing is written when
        it has none)."""
        if name in bucket.config:
            await self._meta.s3.remove_bucket_setting(bucket.name, name)

    async def _object(self, ctx: RequestContext, bucket_name: str, key: str) -> ObjectRecord:
        return (await self._bucket_and_object(ctx, bucket_name, key))[1]

    async def _bucket_and_object(
        self, ctx: RequestContext, bucket_name: str, key: str, *, owner_member: str = TARGET
    ) -> tuple[BucketRecord, ObjectRecord]:
        """The bucket and object a read names, with one read of the store (the bucket checked as
        :meth:`_bucket` checks it)."""
        expected = expected_owner(ctx.params, owner_member)
        bucket, record = await self._meta.s3.get_bucket_and_object(bucket_name, key)
        if bucket is None:
            raise errors.no_such_bucket(bucket_name)
        await _admit(ctx, bucket, expected)
        if record is None:
            raise await self.missing_key(ctx, bucket_name, key, bucket)
        return bucket, record

    async def _bucket_and_version(
        self,
        ctx: RequestContext,
        bucket_name: str,
        key: str,
        version_id: str | None,
        *,
        owner_member: str = TARGET,
    ) -> tuple[BucketRecord, ObjectRecord]:
        """The bucket and the version a read names by ``versionId`` (when ``version_id`` is a
        string), else its current object. A delete marker named by id is a 405, as S3 answers."""
        if version_id is None:
            return await self._bucket_and_object(ctx, bucket_name, key, owner_member=owner_member)
        wanted = versioning.requested_id(version_id)
        bucket = await self._bucket(ctx, bucket_name, owner_member=owner_member)
        record = await self._meta.s3.get_version(bucket.name, key, wanted)
        if record is None:
            if not await ctx.may_learn_absence(bucket_name):
                raise errors.access_denied()
            raise versioning.no_such_version(key, version_id)
        if record.delete_marker:
            raise versioning.delete_marker_read(record)
        return bucket, record

    async def missing_key(
        self, ctx: RequestContext, bucket_name: str, key: str, bucket: BucketRecord | None = None
    ) -> ServiceError:
        """The answer to a request for a key that does not exist: ``NoSuchKey`` where the caller
        may list the bucket, ``AccessDenied`` elsewhere, as S3 answers (so a caller without
        ``s3:ListBucket`` cannot probe which keys exist). Only a request the IAM engine evaluated
        can be refused (:meth:`RequestContext.may_learn_absence`). In a bucket with versioning
        (given ``bucket``), a key whose latest version is a delete marker says so in headers."""
        if not await ctx.may_learn_absence(bucket_name):
            return errors.access_denied()
        error = errors.no_such_key(key)
        if bucket is not None and versioning.status(bucket) is not None:
            latest = await self._meta.s3.latest_version(bucket.name, key)
            if latest is not None and latest.delete_marker:
                error.headers.update(versioning.marker_headers(latest))
        return error

    async def write_blob(
        self,
        chunks: AsyncIterator[bytes],
        algorithms: list[str],
        sealer: crypto.ChunkCipher | None = None,
        check: PayloadCheck | None = None,
    ) -> BlobInfo:
        """Stream ``chunks`` into a new durable blob under a write intent (``check`` is fed every
        byte; its ``verify`` is the caller's).

        The caller must reference the blob from a committed record (which clears the intent) or
        call :meth:`discard_blob`.
        """
        writer = self._blobs.new_writer(algorithms, sealer, check)
        await self._meta.record_blob_intent(writer.blob_id)
        try:
            async for chunk in chunks:
                await writer.write(chunk)
            info: BlobInfo = await writer.commit()
        except BaseException:
            await writer.abort()
            await self._meta.clear_blob_intents([writer.blob_id])
            raise
        return info

    async def write_body(
        self, body: BodyStream, size: int | None, algorithms: list[str], sealer: crypto.ChunkCipher | None
    ) -> BlobInfo:
        """:meth:`write_blob` of a request body of ``size`` bytes, with the body's own check (the
        SigV4 payload hash, or aws-chunked trailer checksums) run in the blob store's pass over
        the bytes; a body that fails it leaves no blob behind."""
        check = defer_check(body)
        info = await self.write_blob(body_chunks(body, size), algorithms, sealer, check)
        if check is not None:
            try:
                check.verify()
            except BaseException:
                await self.discard_blob(info.blob_id)
                raise
        return info

    async def discard_blob(self, blob_id: str) -> None:
        """Remove a committed blob no record references, and its intent."""
        await self._blobs.delete(blob_id)
        await self._meta.clear_blob_intents([blob_id])


async def body_chunks(body: BodyStream, expected: int | None) -> AsyncIterator[bytes]:
    """The chunks of a request body, checking that it has exactly ``expected`` bytes (if known)."""
    received = 0
    while chunk := await body.read(READ_CHUNK):
        received += len(chunk)
        if expected is not None and received > expected:
            raise errors.incomplete_body("The request body is longer than its Content-Length")
        yield chunk
    if expected is not None and received != expected:
        raise errors.incomplete_body(
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        )


async def read_all(body: BodyStream, expected: int) -> bytes:
    """A small body whole (at most :data:`INLINE_MAX` bytes by the caller's check)."""
    return b"".join([chunk async for chunk in body_chunks(body, expected)])


async def _admit(ctx: RequestContext, bucket: BucketRecord, expected: str | None) -> None:
    """Let a request at ``bucket``: only if the bucket is ``expected``'s (when the request names an
    owner); a bucket of another account only where its policy granted the request (the
    authorizer's answer, :meth:`RequestContext.foreign_access`) and, if its requesters pay, the
    request accepts the charge."""
    check_owner(expected, bucket.account_id)
    if bucket.account_id != ctx.account_id:
        if not await ctx.foreign_access():
            raise errors.access_denied()
        check_payer(bucket.config, ctx.params, anonymous=not ctx.account_id)
