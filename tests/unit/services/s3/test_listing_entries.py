"""A listing page's entries: each key encoded as the request asks, the members a page's entries
have alike shared, whatever shortcuts building them takes."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.services.s3 import listing
from kumoi.services.s3.owner import owner_of
from kumoi.storage.meta.contract import ListedObject

#: Keys mostly made of characters URL encoding keeps, with some it changes.
keys = st.text(st.sampled_from("abcXYZ019_.-~/"), min_size=1) | st.text(min_size=1).filter(
    lambda key: "\x00" not in key
)
records = st.builds(
    ListedObject,
    key=keys,
    size=st.integers(min_value=0, max_value=2**40),
    etag=st.just('"e"'),
    last_modified=st.floats(min_value=0, max_value=4e9),
    blob_id=st.none(),
    storage_class=st.sampled_from([None, "GLACIER"]),
    checksums=st.sampled_from([None, "CRC64NVME:FULL_OBJECT", "CRC32,SHA256:COMPOSITE"]),
    owner=st.sampled_from([None, "111122223333"]),
)


def _expected(record: ListedObject, encoded: bool, with_owner: bool) -> tuple[object, ...]:
    shared: dict[str, object] = {}
    if record.checksums:
        names, _, kind = record.checksums.rpartition(":")
        shared.update(ChecksumAlgorithm=names.split(","), ChecksumType=kind)
    shared["StorageClass"] = record.storage_class or "STANDARD"
    if with_owner:
        shared["Owner"] = owner_of(record.owner or "")
    key = quote_plus(record.key, safe="/") if encoded else record.key
    return (key, record.last_modified, record.etag, record.size, shared)


@settings(max_examples=200, deadline=None)
@given(st.lists(records, max_size=12), st.booleans(), st.booleans())
def test_entries_say_what_each_record_says(page: list[ListedObject], encoded: bool, with_owner: bool) -> None:
    encode = listing.encoder_for({"EncodingType": "url"} if encoded else {})
    built = listing.entries(page, encode, with_owner)
    assert built == [_expected(record, encoded, with_owner) for record in page]
    shared_by: dict[tuple[str | None, str | None, str | None], object] = {}
    for record, entry in zip(page, built, strict=True):
        alike = shared_by.setdefault((record.storage_class, record.checksums, record.owner), entry[4])
        assert entry[4] is alike


@given(keys)
def test_url_encoding_is_quote_plus(key: str) -> None:
    assert listing.encoder_for({"EncodingType": "url"})(key) == quote_plus(key, safe="/")
