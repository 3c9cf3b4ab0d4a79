"""S3Repository contract for versions: noncurrent versions, delete markers, the null version,
version listings in S3's order with markers, and which blobs become garbage when."""

from __future__ import annotations

import pytest

from kumoi.storage.meta.contract import (
    NULL_VERSION,
    BucketMissing,
    BucketNotEmpty,
    BucketRecord,
    ConditionFailed,
    ListedVersion,
    ObjectMissing,
    ObjectRecord,
    VersionDelete,
    VersionMissing,
)
from tests.storage_contract.conftest import Env, Runner


def bucket(name: str = "vb") -> BucketRecord:
    return BucketRecord(name=name, account_id="111122223333", region="us-east-1", created=1.0)


def version(
    key: str, version_id: str | None, when: float, blob_id: str | None = None, etag: str = '"e"'
) -> ObjectRecord:
    return ObjectRecord(
        bucket="vb",
        key=key,
        size=3,
        etag=etag,
        last_modified=when,
        blob_id=blob_id,
        inline=None if blob_id else b"abc",
        attrs={"Owner": "111122223333"},
        version_id=version_id,
    )


def marker(key: str, version_id: str | None, when: float) -> ObjectRecord:
    return ObjectRecord(
        "vb", key, 0, "", when, attrs={"Owner": "o"}, version_id=version_id, delete_marker=True
    )


def ids(listed: list[ListedVersion]) -> list[tuple[str, str | None, bool, bool]]:
    """(key, version id, is latest, delete marker) of each listed version."""
    return [(v.key, v.version_id, v.is_latest, v.delete_marker) for v in listed]


def test_versions_accumulate_and_the_newest_is_current(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", None, 1.0, blob_id="n" * 32))  # before versioning: null
        await s3.put_object(version("k", "v1", 2.0, blob_id="a" * 32), versioned=True)
        await s3.put_object(version("k", "v2", 3.0, blob_id="b" * 32), versioned=True)
        current = await s3.get_object("vb", "k")
        assert current is not None and current.version_id == "v2" and current.blob_id == "b" * 32
        assert await meta.take_garbage() == []  # superseded versions keep their blobs
        old = await s3.get_version("vb", "k", "v1")
        assert old is not None and old.blob_id == "a" * 32 and not old.delete_marker
        null = await s3.get_version("vb", "k", None)
        assert null is not None and null.blob_id == "n" * 32 and null.version_id is None
        assert await s3.get_version("vb", "k", "nope") is None
        listed = await s3.list_versions("vb")
        assert ids(listed) == [("k", "v2", True, False), ("k", "v1", False, False), ("k", None, False, False)]
        assert [v.superseded for v in listed] == [None, 3.0, 2.0]
        assert [o.key for o in await s3.list_objects("vb")] == ["k"]

    contract(body)


def test_versions_keep_their_listed_checksums(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        first = version("k", "v1", 1.0)
        first.attrs = {"Owner": "o", "Checksums": {"crc64nvme": "x"}}
        await s3.put_object(first, versioned=True)
        await s3.put_object(version("k", "v2", 2.0), versioned=True)
        listed = await s3.list_versions("vb")
        assert [(v.version_id, v.checksums) for v in listed] == [
            ("v2", None),
            ("v1", "CRC64NVME:FULL_OBJECT"),
        ]
        await s3.delete_version("vb", "k", "v2")  # v1 becomes the current version again
        [current] = await s3.list_objects("vb")
        assert (current.etag, current.checksums) == ('"e"', "CRC64NVME:FULL_OBJECT")
        [latest] = await s3.list_versions("vb")
        assert (latest.version_id, latest.is_latest, latest.checksums) == (
            "v1",
            True,
            "CRC64NVME:FULL_OBJECT",
        )

    contract(body)


def test_delete_markers_hide_and_deleting_them_restores(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", "v1", 1.0), versioned=True)
        await s3.add_delete_marker(marker("k", "m1", 2.0))
        assert await s3.get_object("vb", "k") is None
        assert await s3.list_objects("vb") == []
        latest = await s3.latest_version("vb", "k")
        assert latest is not None and latest.delete_marker and latest.version_id == "m1"
        await s3.add_delete_marker(marker("k", "m2", 3.0))
        assert ids(await s3.list_versions("vb")) == [
            ("k", "m2", True, True),
            ("k", "m1", False, True),
            ("k", "v1", False, False),
        ]
        removed = await s3.delete_version("vb", "k", "m2")
        assert removed is not None and removed.delete_marker
        assert await s3.get_object("vb", "k") is None  # m1 is the latest now
        assert ids(await s3.list_versions("vb"))[0] == ("k", "m1", True, True)
        await s3.delete_version("vb", "k", "m1")
        current = await s3.get_object("vb", "k")
        assert current is not None and current.version_id == "v1"
        assert ids(await s3.list_versions("vb")) == [("k", "v1", True, False)]
        assert await s3.delete_version("vb", "k", "m1") is None
        assert await s3.latest_version("vb", "absent") is None

    contract(body)


def test_deleting_versions_queues_their_blobs_and_promotes_the_next(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        for n, blob in enumerate("abc", start=1):
            await s3.put_object(version("k", f"v{n}", float(n), blob_id=blob * 32), versioned=True)
        removed = await s3.delete_version("vb", "k", "v3")
        assert removed is not None and removed.blob_id == "c" * 32
        assert await meta.take_garbage() == ["c" * 32]
        current = await s3.get_object("vb", "k")
        assert current is not None and current.version_id == "v2" and current.blob_id == "b" * 32
        await s3.delete_version("vb", "k", "v1")
        assert sorted(await meta.take_garbage()) == ["a" * 32, "c" * 32]
        assert ids(await s3.list_versions("vb")) == [("k", "v2", True, False)]
        # A new version after a promotion still sorts first.
        await s3.put_object(version("k", "v4", 5.0), versioned=True)
        assert ids(await s3.list_versions("vb")) == [("k", "v4", True, False), ("k", "v2", False, False)]
        await s3.delete_version("vb", "k", "v4")
        await s3.delete_version("vb", "k", "v2")
        assert await s3.get_object("vb", "k") is None
        assert await s3.list_versions("vb") == []
        assert sorted(await meta.take_garbage()) == ["a" * 32, "b" * 32, "c" * 32]
        assert await s3.delete_bucket("vb")

    contract(body)


def test_suspended_writes_replace_only_the_null_version(contract: Runner) -> None:
    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", None, 1.0, blob_id="n" * 32))
        await s3.put_object(version("k", "v1", 2.0, blob_id="a" * 32), versioned=True)
        # Suspended: a null write replaces the (noncurrent) null version, keeps v1.
        await s3.put_object(version("k", None, 3.0, blob_id="m" * 32), versioned=True)
        assert await meta.take_garbage() == ["n" * 32]
        assert ids(await s3.list_versions("vb")) == [("k", None, True, False), ("k", "v1", False, False)]
        # A null write over a current null version replaces it in place.
        await s3.put_object(version("k", None, 4.0, blob_id="o" * 32), versioned=True)
        assert sorted(await meta.take_garbage()) == ["m" * 32, "n" * 32]
        # A null delete marker replaces the null version too.
        await s3.add_delete_marker(marker("k", None, 5.0))
        assert sorted(await meta.take_garbage()) == ["m" * 32, "n" * 32, "o" * 32]
        assert ids(await s3.list_versions("vb")) == [("k", None, True, True), ("k", "v1", False, False)]
        assert await s3.get_object("vb", "k") is None
        # Writing the null version again replaces the null marker.
        await s3.put_object(version("k", None, 6.0), versioned=True)
        assert ids(await s3.list_versions("vb")) == [("k", None, True, False), ("k", "v1", False, False)]

    contract(body)


def test_conditions_apply_to_the_current_version(contract: Runner) -> None:
    async def body(env: Env) -> None:
        from kumoi.storage.meta.contract import PutCondition

        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", "v1", 1.0, etag='"one"'), versioned=True)
        with pytest.raises(ConditionFailed):
            await s3.put_object_if(version("k", "v2", 2.0), PutCondition(if_none_match=True), versioned=True)
        await s3.put_object_if(version("k", "v2", 2.0), PutCondition(if_match='"one"'), versioned=True)
        await s3.add_delete_marker(marker("k", "m", 3.0))
        await s3.put_object_if(version("k", "v3", 4.0), PutCondition(if_none_match=True), versioned=True)
        assert [v.version_id for v in await s3.list_versions("vb")] == ["v3", "m", "v2", "v1"]

    contract(body)


def test_version_listing_order_markers_and_prefix(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        when = 0.0
        expected: list[tuple[str, str | None]] = []
        for key in ["b", "a/2", "a/1", "\u00e9", "c"]:
            names = [f"{key}-{n}" for n in range(3)]
            for name in names:
                when += 1
                await s3.put_object(version(key, name, when), versioned=True)
            expected += [(key, name) for name in reversed(names)]
        when += 1
        await s3.add_delete_marker(marker("c", "c-dm", when))
        expected.insert([k for k, _ in expected].index("c"), ("c", "c-dm"))
        expected.sort(key=lambda kv: kv[0].encode())  # stable: each key's order stays newest first
        listed = [(v.key, v.version_id) for v in await s3.list_versions("vb")]
        assert listed == expected
        # Pages of every size, resumed from (key, version) markers, give the same sequence.
        for size in (1, 2, 4, 7):
            walked: list[tuple[str, str | None]] = []
            key_marker, version_marker = "", ""
            while True:
                page = await s3.list_versions("vb", "", key_marker, version_marker, size)
                walked += [(v.key, v.version_id) for v in page]
                if len(page) < size:
                    break
                key_marker, version_marker = page[-1].key, page[-1].version_id or NULL_VERSION
            assert walked == expected
        assert [(v.key, v.version_id) for v in await s3.list_versions("vb", "a/")] == expected[:6]
        assert [v.key for v in await s3.list_versions("vb", "", "b")] == ["c"] * 4 + ["\u00e9"] * 3
        assert [v.version_id for v in await s3.list_versions("vb", "", "b", "b-1")] == ["b-0", "c-dm"] + [
            f"c-{n}" for n in (2, 1, 0)
        ] + [f"\u00e9-{n}" for n in (2, 1, 0)]
        with pytest.raises(VersionMissing):
            await s3.list_versions("vb", "", "b", "nope")
        assert await s3.list_versions("vb", "", "", "", 0) == []

    contract(body)


def test_null_version_as_listing_marker(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", None, 1.0))
        await s3.put_object(version("k", "v1", 2.0), versioned=True)
        await s3.put_object(version("l", None, 3.0))
        assert [v.version_id for v in await s3.list_versions("vb", "", "k", NULL_VERSION)] == [None]
        assert [v.version_id for v in await s3.list_versions("vb", "", "k", "v1")] == [None, None]

    contract(body)


def test_patch_version_attrs(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", "v1", 1.0), versioned=True)
        await s3.put_object(version("k", "v2", 2.0), versioned=True)
        patched = await s3.patch_version_attrs("vb", "k", "v1", {"Tags": {"a": "b"}, "Owner": None})
        assert patched.attrs == {"Tags": {"a": "b"}}
        old = await s3.get_version("vb", "k", "v1")
        assert old is not None and old.attrs == {"Tags": {"a": "b"}}
        current = await s3.get_object("vb", "k")
        assert current is not None and current.attrs == {"Owner": "111122223333"}
        await s3.patch_version_attrs(
            "vb", "k", "v2", {"StorageClass": "GLACIER"}, expect={"StorageClass": None}
        )
        with pytest.raises(ConditionFailed):
            await s3.patch_version_attrs(
                "vb", "k", "v2", {"StorageClass": "X"}, expect={"StorageClass": None}
            )
        listed = await s3.list_versions("vb")
        assert [v.storage_class for v in listed] == ["GLACIER", None]
        await s3.add_delete_marker(marker("k", "m", 3.0))
        with pytest.raises(ObjectMissing):
            await s3.patch_version_attrs("vb", "k", "m", {"Tags": {}})
        with pytest.raises(ObjectMissing):
            await s3.patch_version_attrs("vb", "k", "zz", {"Tags": {}})

    contract(body)


def test_delete_versions_in_one_transaction(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("a", "v1", 1.0), versioned=True)
        await s3.put_object(version("b", "v1", 1.0), versioned=True)
        results = await s3.delete_versions(
            "vb",
            [
                VersionDelete("a", marker=marker("a", "m1", 2.0)),
                VersionDelete("b", "v1"),
                VersionDelete("c", "nope"),
            ],
        )
        assert [r.version_id if r else None for r in results] == ["m1", "v1", None]
        assert ids(await s3.list_versions("vb")) == [("a", "m1", True, True), ("a", "v1", False, False)]
        with pytest.raises(BucketNotEmpty):
            await s3.delete_bucket("vb")
        with pytest.raises(BucketMissing):
            await s3.delete_versions("gone", [VersionDelete("a", marker=marker("a", "m2", 3.0))])
        with pytest.raises(BucketMissing):
            await s3.add_delete_marker(ObjectRecord("gone", "a", 0, "", 1.0, delete_marker=True))
        assert await s3.delete_versions("gone", [VersionDelete("a", "v1")]) == [None]

    contract(body)


def test_only_markers_keep_a_bucket_from_being_deleted(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.add_delete_marker(marker("k", "m", 1.0))
        with pytest.raises(BucketNotEmpty):
            await s3.delete_bucket("vb")
        await s3.delete_version("vb", "k", "m")
        assert await s3.delete_bucket("vb")

    contract(body)


@pytest.mark.parametrize("seed", range(6))
def test_random_histories_match_a_model(contract: Runner, seed: int) -> None:
    """Random sequences of versioned writes, null writes, delete markers and version deletes
    leave exactly what a list-per-key model says: listing order, latest flags, current objects,
    and garbage (every removed version's blob, no live one)."""
    import random

    rng = random.Random(seed)
    keys = ["a", "a/b", "\u00e9"]

    async def body(env: Env) -> None:
        meta, s3 = env.meta, env.meta.s3
        await s3.create_bucket(bucket())
        model: dict[str, list[tuple[str | None, bool, str | None]]] = {key: [] for key in keys}
        removed: set[str] = set()
        for step in range(60):
            key = rng.choice(keys)
            when = float(step)
            choice = rng.random()
            versions = model[key]
            if choice < 0.6:
                version_id = None if rng.random() < 0.3 else f"v{step}"
                blob = f"{step:032d}"
                if version_id is None:
                    removed.update(b for v, _m, b in versions if v is None and b)
                    versions[:] = [entry for entry in versions if entry[0] is not None]
                versions.insert(0, (version_id, False, blob))
                await s3.put_object(version(key, version_id, when, blob_id=blob), versioned=True)
            elif choice < 0.8:
                version_id = None if rng.random() < 0.3 else f"m{step}"
                if version_id is None:
                    removed.update(b for v, _m, b in versions if v is None and b)
                    versions[:] = [entry for entry in versions if entry[0] is not None]
                versions.insert(0, (version_id, True, None))
                await s3.add_delete_marker(marker(key, version_id, when))
            elif versions:
                gone_id, _marker, gone_blob = versions.pop(rng.randrange(len(versions)))
                if gone_blob:
                    removed.add(gone_blob)
                assert await s3.delete_version("vb", key, gone_id) is not None
            expected = [
                (k, v, n == 0, m)
                for k in sorted(keys, key=lambda k: k.encode())
                for n, (v, m, _b) in enumerate(model[k])
            ]
            assert ids(await s3.list_versions("vb")) == expected
            current = await s3.get_object("vb", key)
            front = versions[0] if versions else None
            if front is None or front[1]:
                assert current is None
            else:
                assert current is not None and current.version_id == front[0] and current.blob_id == front[2]
        live = {b for versions in model.values() for _v, _m, b in versions if b}
        garbage = set(await meta.take_garbage(10_000))
        assert garbage == removed and not garbage & live

    contract(body)


def test_deletes_expecting_a_lock_state(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(version("k", "v1", 1.0), versioned=True)
        await s3.put_object(version("k", "v2", 2.0), versioned=True)
        await s3.patch_version_attrs("vb", "k", "v1", {"ObjectLockLegalHoldStatus": "ON"})
        with pytest.raises(ConditionFailed):
            await s3.delete_version("vb", "k", "v1", expect={"ObjectLockLegalHoldStatus": None})
        with pytest.raises(ConditionFailed):
            await s3.delete_versions(
                "vb",
                [
                    VersionDelete("k", "v2"),
                    VersionDelete("k", "v1", expect={"ObjectLockLegalHoldStatus": None}),
                ],
            )
        assert [v.version_id for v in await s3.list_versions("vb")] == ["v2", "v1"]  # nothing deleted
        removed = await s3.delete_version("vb", "k", "v1", expect={"ObjectLockLegalHoldStatus": "ON"})
        assert removed is not None and removed.version_id == "v1"
        assert await s3.delete_version("vb", "k", "gone", expect={"ObjectLockMode": None}) is None

    contract(body)
