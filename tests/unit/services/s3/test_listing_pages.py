"""listing.list_page against the SQLite store: walking the pages of any key set, with or without
a delimiter and for any page size, shows exactly S3's listing (every key under the prefix once,
in UTF-8 byte order, keys sharing a delimited prefix collapsed into one common prefix)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumoi.core.clock import Clock
from kumoi.services.s3.listing import list_page
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore

_KEYS = st.lists(st.text("ab/é", min_size=1, max_size=5), unique=True, max_size=25)


def _expected(keys: list[str], prefix: str, delimiter: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for key in sorted(keys, key=lambda k: k.encode("utf-8")):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entry = ("prefix", key[: cut + len(delimiter)]) if cut >= 0 else ("key", key)
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=_KEYS,
    prefix=st.sampled_from(["", "a", "a/", "b"]),
    delimiter=st.sampled_from(["", "/", "b"]),
    max_keys=st.integers(1, 6),
)
def test_pages_walk_the_listing(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str], prefix: str, delimiter: str, max_keys: int
) -> None:
    path: Path = tmp_path_factory.mktemp("listing") / "meta.db"

    async def main() -> list[tuple[str, str]]:
        meta = SqliteMetadataStore(path, clock=Clock())
        await meta.start()
        try:
            repo = meta.s3
            await repo.create_bucket(BucketRecord("bkt", "111122223333", "us-east-1", 1.0))
            for key in keys:
                await repo.put_object(ObjectRecord("bkt", key, 1, '"e"', 2.0, inline=b"x"))
            seen: list[tuple[str, str]] = []
            after = ""
            for _ in range(len(keys) + 2):
                page = await list_page(repo, "bkt", prefix, delimiter, after, max_keys)
                assert len(page.objects) + len(page.prefixes) <= max_keys
                # Objects and prefixes of one page interleave in key order.
                merged = sorted(
                    [("key", o.key) for o in page.objects] + [("prefix", p) for p in page.prefixes],
                    key=lambda entry: entry[1].encode("utf-8"),
                )
                seen += merged
                if not page.truncated:
                    return seen
                assert page.last == merged[-1][1]
                after = page.last
            raise AssertionError("listing did not end")
        finally:
            await meta.close()

    assert asyncio.run(main()) == _expected(keys, prefix, delimiter)
