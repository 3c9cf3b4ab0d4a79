"""Listing pages read ahead by the SQLite store: kept until asked for, never stale."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumoi.core.clock import Clock
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore
from kumoi.storage.meta.sqlite.engine import Database


def _object(key: str, size: int = 1) -> ObjectRecord:
    return ObjectRecord(bucket="bkt", key=key, size=size, etag='"e"', last_modified=2.0, inline=b"x" * size)


def _run(tmp_path: Path, body: object) -> None:
    async def main() -> None:
        store = SqliteMetadataStore(tmp_path / "meta.db", clock=Clock())
        await store.start()
        try:
            await store.s3.create_bucket(BucketRecord("bkt", "111122223333", "us-east-1", 1.0, {}))
            await body(store)  # type: ignore[operator]
        finally:
            await store.close()

    asyncio.run(main())


def _kept(db: Database, key: tuple[object, ...]) -> tuple[object, ...] | None:
    """The result ``db`` keeps for ``key`` under its current generation, if any."""
    entry = db._cache.get(key)
    return None if entry is None or entry[0] != db._generation else entry[1]


def test_a_page_of_the_longest_keys_read_ahead_is_kept_until_listed(tmp_path: Path) -> None:
    keys = [f"{index:04d}".ljust(1024, "k") for index in range(1001)]

    async def body(store: SqliteMetadataStore) -> None:
        for key in keys:
            await store.s3.put_object(_object(key))
        store.s3.read_ahead_objects("bkt", "", "", 1001, with_owner=False)
        await asyncio.sleep(0.5)  # the read is done: nobody waited for it
        kept = _kept(store.s3._db, ("objects", "bkt", "", "", 1001, False))
        assert kept is not None, "a page this size is kept"
        page = await store.s3.list_objects("bkt", "", "", 1001, with_owner=False)
        assert [record.key for record in page] == keys
        assert all(listed is ahead for listed, ahead in zip(page, kept, strict=True))

    _run(tmp_path, body)


def test_a_page_read_ahead_then_written_to_is_read_again(tmp_path: Path) -> None:
    async def body(store: SqliteMetadataStore) -> None:
        for key in ("a", "b", "c"):
            await store.s3.put_object(_object(key))
        store.s3.read_ahead_objects("bkt", "", "a", 2)
        await asyncio.sleep(0.1)
        await store.s3.put_object(_object("b", size=5))
        await store.s3.delete_object("bkt", "c")
        await store.s3.put_object(_object("bb"))
        page = await store.s3.list_objects("bkt", "", "a", 2)
        assert [(record.key, record.size) for record in page] == [("b", 5), ("bb", 1)]

    _run(tmp_path, body)


def test_callers_get_lists_of_their_own(tmp_path: Path) -> None:
    async def body(store: SqliteMetadataStore) -> None:
        await store.s3.put_object(_object("a"))
        first = await store.s3.list_objects("bkt")
        first.clear()
        assert [record.key for record in await store.s3.list_objects("bkt")] == ["a"]

    _run(tmp_path, body)


_KEYS = st.sampled_from(["a", "b", "c", "d", "e", "f"])
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _KEYS, st.integers(1, 9)),
        st.tuples(st.just("delete"), _KEYS, st.just(0)),
        st.tuples(st.just("page"), st.sampled_from(["", "a", "b", "c", "d", "e"]), st.integers(1, 3)),
        st.tuples(st.just("settle"), st.just(""), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_STEPS)
def test_pages_always_show_the_store_as_it_is(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Any]
) -> None:
    """Writes, pages that read the next page ahead (as the S3 listing does) and pauses that let
    those reads finish, in any order: every page lists exactly what a fresh read would."""
    path = tmp_path_factory.mktemp("ahead")

    async def body(store: SqliteMetadataStore) -> None:
        model: dict[str, int] = {}
        for op, key, number in steps:
            if op == "put":
                await store.s3.put_object(_object(key, size=number))
                model[key] = number
            elif op == "delete":
                await store.s3.delete_object("bkt", key)
                model.pop(key, None)
            elif op == "settle":
                await asyncio.sleep(0.01)
            else:
                page = await store.s3.list_objects("bkt", "", key, number + 1)
                expected = sorted((name, size) for name, size in model.items() if name > key)[: number + 1]
                assert [(record.key, record.size) for record in page] == expected
                if len(page) > number:
                    store.s3.read_ahead_objects("bkt", "", page[number - 1].key, number + 1)

    _run(path, body)
