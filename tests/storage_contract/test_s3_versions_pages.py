"""ListObjectVersions' pages (``versions_listing.list_version_page`` on the store), as a property:
for any set of versions, prefix, delimiter and page size, walking the pages by their next
markers yields exactly the whole listing a naive model computes, each entry once, in S3's order."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kumoi.core.clock import Clock
from kumoi.services.s3.versions_listing import list_version_page
from kumoi.storage.meta.contract import BucketRecord, ObjectRecord
from kumoi.storage.meta.sqlite import SqliteMetadataStore

KEYS = st.text(alphabet="ab/é", min_size=1, max_size=4)
#: Per key: its writes in order, True for a delete marker.
HISTORIES = st.dictionaries(KEYS, st.lists(st.booleans(), min_size=1, max_size=3), max_size=8)

Entry = tuple[str, str]


def expected(history: dict[str, list[bool]], prefix: str, delimiter: str) -> list[Entry]:
    """The whole listing: ("P", prefix) for common prefixes, (key, version id) for versions."""
    found: list[Entry] = []
    for key in sorted(history, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        index = key.find(delimiter, len(prefix)) if delimiter else -1
        if index >= 0:
            common = ("P", key[: index + len(delimiter)])
            if common not in found:
                found.append(common)
            continue
        found += [(key, f"{key}#{n}") for n in reversed(range(len(history[key])))]
    return found


async def walk(store: SqliteMetadataStore, prefix: str, delimiter: str, size: int) -> list[Entry]:
    walked: list[Entry] = []
    key_marker, version_marker = "", ""
    for _ in range(200):
        page = await list_version_page(store.s3, "vb", prefix, delimiter, key_marker, version_marker, size)
        assert len(page.entries) + len(page.prefixes) <= size
        # Entries and prefixes come out in S3's order; a page holds them merged by key.
        items = [(e.key, e.version_id or "null") for e in page.entries] + [("P", p) for p in page.prefixes]
        items.sort(key=lambda item: (item[1] if item[0] == "P" else item[0]).encode())
        walked += items
        if not page.truncated:
            return walked
        key_marker, version_marker = page.next_key, page.next_version or ""
    raise AssertionError("the pages never ended")


@settings(max_examples=60, deadline=None)
@given(
    history=HISTORIES,
    prefix=st.sampled_from(["", "a", "a/"]),
    delimiter=st.sampled_from(["", "/", "b"]),
    size=st.integers(min_value=1, max_value=5),
)
# A page that ends on a common prefix, with more keys under it and after it.
@example(history={"a/a": [False], "a/b": [True, False], "b": [False]}, prefix="", delimiter="/", size=1)
# A page that ends inside one key's versions.
@example(history={"a": [False, True, False], "b": [True]}, prefix="", delimiter="", size=2)
def test_pages_walk_the_whole_listing(
    history: dict[str, list[bool]], prefix: str, delimiter: str, size: int
) -> None:
    async def main(path: Path) -> None:
        store = SqliteMetadataStore(path, clock=Clock())
        await store.start()
        try:
            await store.s3.create_bucket(BucketRecord("vb", "111122223333", "us-east-1", 1.0))
            for key, writes in history.items():
                for n, is_marker in enumerate(writes):
                    record = ObjectRecord("vb", key, 1, '"e"', float(n), inline=b"x", version_id=f"{key}#{n}")
                    if is_marker:
                        record = ObjectRecord(
                            "vb", key, 0, "", float(n), version_id=f"{key}#{n}", delete_marker=True
                        )
                        await store.s3.add_delete_marker(record)
                    else:
                        await store.s3.put_object(record, versioned=True)
            walked = await walk(store, prefix, delimiter, size)
            want = expected(history, prefix, delimiter)
            assert walked == want
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp) / "meta.db"))
