"""S3Repository contract: buckets, objects, listing order and bounds, blob bookkeeping."""

from __future__ import annotations

import asyncio

import pytest

from kumoi.storage.meta.contract import (
    BlobPart,
    BucketExists,
    BucketMissing,
    BucketNotEmpty,
    BucketRecord,
    ConditionFailed,
    ListedObject,
    ObjectMissing,
    ObjectRecord,
    PartRecord,
    PartsChanged,
    PutCondition,
    UploadMissing,
    UploadRecord,
)
from tests.storage_contract.conftest import Env, Runner

#: Keys whose UTF-8 byte order differs from naive orders (UTF-16 code units, case folding, NFC).
TRICKY_KEYS = [
    "",
    "a",
    "a/",
    "a/b",
    "a%",
    "a_",
    "a\x00",
    "a\x7f",
    "a\u00ff",
    "a\u0100",
    "a\u00ff\u00ff",
    "a\ud7ff",
    "a\ue000",
    "a\uffff",
    "a\U00010000",
    "a\U0001f600",
    "a\U0010ffff",
    "a\U0010ffff\U0010ffff",
    "a\U0010ffffz",
    "b",
    "B",
    "\u00e9",
    "e\u0301",
    "\uff21",
    "\U0010ffff",
]
TRICKY_KEYS.remove("")


def _utf8_sorted(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def bucket(name: str = "bkt", account: str = "111122223333") -> BucketRecord:
    return BucketRecord(name=name, account_id=account, region="us-east-1", created=1.5, config={"v": 1})


def obj(key: str, blob_id: str | None = None, bkt: str = "bkt", size: int = 3) -> ObjectRecord:
    return ObjectRecord(
        bucket=bkt,
        key=key,
        size=size,
        etag='"e"',
        last_modified=2.0,
        blob_id=blob_id,
        inline=None if blob_id else b"abc",
        attrs={"meta": {"k": "v"}, "ct": "text/plain"},
    )


def test_bucket_lifecycle(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        assert await s3.get_bucket("bkt") is None
        await s3.create_bucket(bucket())
        assert await s3.get_bucket("bkt") == bucket()
        with pytest.raises(BucketExists) as info:
            await s3.create_bucket(bucket(account="999999999999"))
        assert info.value.existing == bucket()
        await s3.set_bucket_setting("bkt", "versioning", "Enabled")
        await s3.set_bucket_setting("bkt", "tags", {"a": "b"})
        got = await s3.get_bucket("bkt")
        assert got is not None and got.config == {"v": 1, "versioning": "Enabled", "tags": {"a": "b"}}
        await s3.remove_bucket_setting("bkt", "tags")
        await s3.remove_bucket_setting("bkt", "absent")
        await s3.set_bucket_setting("bkt", "cleared", None)
        got = await s3.get_bucket("bkt")
        assert got is not None and got.config == {"v": 1, "versioning": "Enabled", "cleared": None}
        await s3.put_object(obj("k"))
        with pytest.raises(BucketNotEmpty):
            await s3.delete_bucket("bkt")
        await s3.delete_object("bkt", "k")
        assert await s3.delete_bucket("bkt") is True
        assert await s3.delete_bucket("bkt") is False
        assert await s3.get_bucket("bkt") is None

    contract(body)


def test_list_buckets_by_account_prefix_after_limit(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        names = ["alpha", "alpha-2", "beta", "gamma", "zeta"]
        for name in reversed(names):
            await s3.create_bucket(bucket(name))
        await s3.create_bucket(bucket("other", account="999999999999"))
        assert [b.name for b in await s3.list_buckets("111122223333")] == names
        assert [b.name for b in await s3.list_buckets("111122223333", prefix="alpha")] == names[:2]
        assert [b.name for b in await s3.list_buckets("111122223333", after="alpha-2")] == names[2:]
        assert [b.name for b in await s3.list_buckets("111122223333", limit=2)] == names[:2]
        assert [b.name for b in await s3.list_buckets("999999999999")] == ["other"]
        assert await s3.list_buckets("000000000000") == []

    contract(body)


def test_put_get_replace_delete_object(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        await meta.record_blob_intent("a" * 32)
        await s3.put_object(obj("k", blob_id="a" * 32))
        assert await meta.pending_blob_intents() == []
        assert await s3.get_object("bkt", "k") == obj("k", blob_id="a" * 32)
        assert await s3.get_object("bkt", "other") is None
        assert await s3.get_object("nobucket", "k") is None
        assert await s3.get_bucket_and_object("bkt", "k") == (bucket(), obj("k", blob_id="a" * 32))
        assert await s3.get_bucket_and_object("bkt", "nope") == (bucket(), None)
        assert await s3.get_bucket_and_object("nobucket", "k") == (None, None)

        await meta.record_blob_intent("b" * 32)
        await s3.put_object(obj("k", blob_id="b" * 32, size=9))
        got = await s3.get_object("bkt", "k")
        assert got is not None and got.blob_id == "b" * 32 and got.size == 9
        assert await meta.take_garbage() == ["a" * 32]
        assert await meta.pending_blob_intents() == []

        await s3.put_object(obj("k"))  # inline replaces a blob: the blob becomes garbage
        got = await s3.get_object("bkt", "k")
        assert got is not None and got.inline == b"abc" and got.blob_id is None
        assert sorted(await meta.take_garbage()) == ["a" * 32, "b" * 32]
        await s3.put_object(obj("k"))  # inline replaces inline: nothing to collect
        assert len(await meta.take_garbage()) == 2

        await s3.put_object(obj("j", blob_id="c" * 32))
        deleted = await s3.delete_object("bkt", "j")
        assert deleted == obj("j", blob_id="c" * 32)
        assert await s3.delete_object("bkt", "j") is None
        assert sorted(await meta.take_garbage()) == ["a" * 32, "b" * 32, "c" * 32]
        await meta.forget_garbage(["a" * 32, "c" * 32])
        assert await meta.take_garbage() == ["b" * 32]

    contract(body)


def test_put_object_into_missing_bucket(contract: Runner) -> None:
    async def body(env: Env) -> None:
        await env.meta.record_blob_intent("d" * 32)
        with pytest.raises(BucketMissing):
            await env.meta.s3.put_object(obj("k", blob_id="d" * 32, bkt="gone"))
        assert await env.meta.pending_blob_intents() == ["d" * 32]
        assert await env.meta.s3.get_object("gone", "k") is None

    contract(body)


def test_listing_is_utf8_byte_order(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.create_bucket(bucket("bkt2"))
        await s3.put_object(obj("a", bkt="bkt2"))
        for key in TRICKY_KEYS:
            await s3.put_object(obj(key))
        expected = _utf8_sorted(TRICKY_KEYS)
        assert [o.key for o in await s3.list_objects("bkt")] == expected
        # Paging with ``after`` walks the same order.
        paged: list[str] = []
        after = ""
        while page := await s3.list_objects("bkt", after=after, limit=3):
            paged += [o.key for o in page]
            after = page[-1].key
        assert paged == expected

    contract(body)


def test_listing_shows_what_a_listing_needs(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        attrs = {
            "Checksums": {"crc32": "AAAAAA==", "sha256": "x"},
            "StorageClass": "GLACIER",
            "Owner": "111122223333",
            "Encryption": {"SSE": "AES256", "Sealed": True},
        }
        await s3.put_object(ObjectRecord("bkt", "full", 3, '"e"', 5.5, inline=b"abc", attrs=attrs))
        await s3.put_object(ObjectRecord("bkt", "plain", 9, '"f"', 6.0, blob_id=blob(1)))
        composite = {"Checksums": {"crc32c": "AAAAAA=="}, "ChecksumType": "COMPOSITE", "Owner": "1"}
        await s3.put_object(ObjectRecord("bkt", "parts", 7, '"g-2"', 7.0, inline=b"x", attrs=composite))
        full = ListedObject(
            "full", 3, '"e"', 5.5, None, "GLACIER", "CRC32,SHA256:FULL_OBJECT", "111122223333"
        )
        plain = ListedObject("plain", 9, '"f"', 6.0, blob(1), None, None, None)
        parts = ListedObject("parts", 7, '"g-2"', 7.0, None, None, "CRC32C:COMPOSITE", "1")
        assert await s3.list_objects("bkt") == [full, parts, plain]
        assert await s3.list_objects("bkt", with_owner=False) == [
            full._replace(owner=None),
            parts._replace(owner=None),
            plain,
        ]

    contract(body)


def test_listing_follows_attribute_changes(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(ObjectRecord("bkt", "k", 1, '"e"', 1.0, inline=b"x", attrs={"Owner": "1"}))
        [listed] = await s3.list_objects("bkt")
        assert listed.checksums is None
        attrs = {"Owner": "1", "Checksums": {"sha1": "x"}, "Tags": {"a": "b"}}
        await s3.update_object_attrs("bkt", "k", '"e"', attrs)
        [listed] = await s3.list_objects("bkt")
        assert listed.checksums == "SHA1:FULL_OBJECT"
        await s3.put_object(ObjectRecord("bkt", "k", 1, '"f"', 2.0, inline=b"y", attrs={"Owner": "1"}))
        [listed] = await s3.list_objects("bkt")
        assert (listed.etag, listed.checksums) == ('"f"', None)

    contract(body)


PREFIXES = ["a", "a\u00ff", "a\U0010ffff", "\U0010ffff", "a\ud7ff", "a\uffff", "a%", "a_", "e", "a\x00", "zz"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_prefix_bounds_match_startswith(contract: Runner, prefix: str) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        for key in TRICKY_KEYS:
            await s3.put_object(obj(key))
        ordered = _utf8_sorted(TRICKY_KEYS)
        for after in ["", *ordered]:
            got = [o.key for o in await s3.list_objects("bkt", prefix=prefix, after=after)]
            want = [k for k in ordered if k.startswith(prefix) and k.encode() > after.encode()]
            assert got == want, (prefix, after)

    contract(body)


def test_group_commit_with_one_failing_writer(contract: Runner) -> None:
    """200 concurrent puts, one into a missing bucket: it alone fails, every other one lands."""

    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        records = [obj(f"key-{i:03d}", bkt="missing" if i == 117 else "bkt") for i in range(200)]
        results = await asyncio.gather(*(s3.put_object(r) for r in records), return_exceptions=True)
        failures = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
        assert failures == [117]
        assert isinstance(results[117], BucketMissing)
        keys = [o.key for o in await s3.list_objects("bkt")]
        assert keys == [f"key-{i:03d}" for i in range(200) if i != 117]

    contract(body)


def blob(n: int) -> str:
    return f"{n:032x}"


def test_conditional_puts(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        with pytest.raises(ObjectMissing):
            await s3.put_object_if(obj("k"), PutCondition(if_match='"e"'))
        await s3.put_object_if(obj("k"), PutCondition(if_none_match=True))
        with pytest.raises(ConditionFailed):
            await s3.put_object_if(obj("k"), PutCondition(if_none_match=True))
        with pytest.raises(ConditionFailed):
            await s3.put_object_if(obj("k"), PutCondition(if_match='"other"'))
        await s3.put_object_if(obj("k", size=5), PutCondition(if_match='"e"'))
        got = await s3.get_object("bkt", "k")
        assert got is not None and got.size == 5
        with pytest.raises(ConditionFailed):
            await s3.put_object_if(obj("k"), PutCondition(same_blobs=(blob(1),)))
        await s3.put_object_if(obj("k", size=6), PutCondition(same_blobs=()))

    contract(body)


def test_racing_conditional_creates(contract: Runner) -> None:
    """Exactly one of many concurrent if-none-match creators wins, even inside one group commit."""

    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        attempts = [
            s3.put_object_if(obj("race", size=i), PutCondition(if_none_match=True)) for i in range(50)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        winners = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, ConditionFailed) for r in results if isinstance(r, BaseException))
        got = await s3.get_object("bkt", "race")
        assert got is not None and got.size == winners[0]

    contract(body)


def test_manifest_objects_reference_all_their_blobs(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        manifest = [BlobPart(blob(1), 10), BlobPart(blob(2), 4)]
        record = ObjectRecord("bkt", "m", 14, '"x-2"', 3.0, manifest=manifest, attrs={"a": 1})
        await s3.put_object(record)
        assert await s3.get_object("bkt", "m") == record
        listed = await s3.list_objects("bkt")
        assert listed[0].key == "m" and listed[0].size == 14 and listed[0].blob_id is None
        # Reusing one blob keeps it; the other becomes garbage.
        await s3.put_object(ObjectRecord("bkt", "m", 10, '"y"', 4.0, manifest=[BlobPart(blob(1), 10)]))
        assert await meta.take_garbage() == [blob(2)]
        await s3.delete_object("bkt", "m")
        assert sorted(await meta.take_garbage()) == [blob(1), blob(2)]

    contract(body)


def test_delete_objects_and_update_attrs(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(obj("a", blob_id=blob(3)))
        await s3.put_object(obj("b"))
        assert await s3.delete_objects("bkt", ["a", "b", "missing"]) == ["a", "b"]
        assert await s3.list_objects("bkt") == []
        assert await meta.take_garbage() == [blob(3)]
        await s3.put_object(obj("c"))
        await s3.update_object_attrs("bkt", "c", '"e"', {"Tags": {"t": "1"}})
        got = await s3.get_object("bkt", "c")
        assert got is not None and got.attrs == {"Tags": {"t": "1"}} and got.inline == b"abc"
        with pytest.raises(ConditionFailed):
            await s3.update_object_attrs("bkt", "c", '"changed"', {})
        with pytest.raises(ObjectMissing):
            await s3.update_object_attrs("bkt", "nope", '"e"', {})

    contract(body)


def part(upload_id: str, number: int, blob_id: str, size: int = 5) -> PartRecord:
    return PartRecord(upload_id, number, size, f'"p{number}"', blob_id, 2.0, {"crc32": "AAAAAA=="})


def test_multipart_upload_lifecycle(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        with pytest.raises(BucketMissing):
            await s3.create_upload(UploadRecord("u0", "gone", "k", 1.0))
        upload = UploadRecord("u1", "bkt", "k", 1.0, {"Algorithm": "crc32"})
        await s3.create_upload(upload)
        assert await s3.get_upload("u1") == upload
        assert await s3.get_upload("nope") is None
        for number, n in ((1, 1), (2, 2), (3, 3)):
            await meta.record_blob_intent(blob(n))
            await s3.put_part(part("u1", number, blob(n)))
        assert await meta.pending_blob_intents() == []
        await s3.put_part(part("u1", 2, blob(4)))  # re-uploaded part: the old blob is garbage
        assert await meta.take_garbage() == [blob(2)]
        assert [p.part_number for p in await s3.list_parts("u1")] == [1, 2, 3]
        assert [p.part_number for p in await s3.list_parts("u1", after=1, limit=1)] == [2]
        assert (await s3.list_parts("u1"))[1] == part("u1", 2, blob(4))
        with pytest.raises(UploadMissing):
            await s3.put_part(part("nope", 1, blob(9)))

        stale = ObjectRecord(
            "bkt", "k", 10, '"m-2"', 5.0, manifest=[BlobPart(blob(1), 5), BlobPart(blob(2), 5)]
        )
        with pytest.raises(PartsChanged):
            await s3.complete_upload("u1", stale)
        record = ObjectRecord(
            "bkt", "k", 10, '"m-2"', 5.0, manifest=[BlobPart(blob(1), 5), BlobPart(blob(4), 5)]
        )
        with pytest.raises(ConditionFailed):
            await s3.put_object(obj("k"))
            await s3.complete_upload("u1", record, PutCondition(if_none_match=True))
        await s3.complete_upload("u1", record)
        assert await s3.get_upload("u1") is None
        assert await s3.list_parts("u1") == []
        assert sorted(await meta.take_garbage()) == [blob(2), blob(3)]
        got = await s3.get_object("bkt", "k")
        assert got is not None and got.manifest == record.manifest
        with pytest.raises(UploadMissing):
            await s3.complete_upload("u1", record)

    contract(body)


def test_abort_expiry_and_bucket_deletion(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        await s3.create_upload(UploadRecord("old", "bkt", "a", 1.0))
        await s3.create_upload(UploadRecord("new", "bkt", "b", 100.0))
        await s3.put_part(part("old", 1, blob(5)))
        assert [u.upload_id for u in await s3.uploads_initiated_before(50.0)] == ["old"]
        assert await s3.abort_upload("old") is True
        assert await s3.abort_upload("old") is False
        assert await meta.take_garbage() == [blob(5)]
        await s3.put_part(part("new", 1, blob(6)))
        assert await s3.delete_bucket("bkt") is True
        assert await s3.get_upload("new") is None
        assert sorted(await meta.take_garbage()) == [blob(5), blob(6)]

    contract(body)


def test_list_uploads_order_and_markers(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        for key, upload_id in (("a", "2"), ("a", "1"), ("b/x", "3"), ("b/y", "4"), ("c", "5")):
            await s3.create_upload(UploadRecord(upload_id, "bkt", key, 1.0))
        every = [(u.key, u.upload_id) for u in await s3.list_uploads("bkt")]
        assert every == [("a", "1"), ("a", "2"), ("b/x", "3"), ("b/y", "4"), ("c", "5")]
        after = [
            (u.key, u.upload_id) for u in await s3.list_uploads("bkt", key_marker="a", upload_id_marker="1")
        ]
        assert after == [("a", "2"), ("b/x", "3"), ("b/y", "4"), ("c", "5")]
        past_key = [u.upload_id for u in await s3.list_uploads("bkt", key_marker="a")]
        assert past_key == ["3", "4", "5"]
        assert [u.upload_id for u in await s3.list_uploads("bkt", prefix="b/", limit=1)] == ["3"]

    contract(body)


def test_concurrent_bucket_settings_all_land(contract: Runner) -> None:
    """Puts of different bucket subresources at once each keep the others' settings."""

    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await asyncio.gather(*(s3.set_bucket_setting("bkt", f"s{i}", {"n": i}) for i in range(20)))
        got = await s3.get_bucket("bkt")
        assert got is not None and got.config == {"v": 1} | {f"s{i}": {"n": i} for i in range(20)}

    contract(body)
