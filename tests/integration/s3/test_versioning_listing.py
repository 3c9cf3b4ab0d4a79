"""ListObjectVersions through boto3: S3's order, markers and pages, prefixes and delimiters,
URL encoding; and ListObjects hiding delete markers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique

KEYS = ["b", "a/2", "a/1", "\u00e9", "c", "a%20b"]


@pytest.fixture
def populated(s3: Any) -> tuple[str, list[tuple[str, str, bool, bool]]]:
    """A versioned bucket with 3 versions of each key and a delete marker on ``c``; and the
    expected listing: (key, version id, is latest, delete marker), in S3's order."""
    name = unique("vlist")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    expected: dict[str, list[tuple[str, str, bool, bool]]] = {}
    for key in KEYS:
        ids = [s3.put_object(Bucket=name, Key=key, Body=key.encode())["VersionId"] for _ in range(3)]
        expected[key] = [(key, v, n == 0, False) for n, v in enumerate(reversed(ids))]
    marker = s3.delete_object(Bucket=name, Key="c")["VersionId"]
    expected["c"] = [("c", marker, True, True)] + [(k, v, False, dm) for k, v, _latest, dm in expected["c"]]
    ordered = [entry for key in sorted(expected, key=lambda k: k.encode()) for entry in expected[key]]
    return name, ordered


def entries(page: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """A page's versions and markers in S3's order (the SDK hands them over as two lists)."""
    found = [
        (v["Key"], v["VersionId"], v["IsLatest"], False, v["LastModified"]) for v in page.get("Versions", [])
    ]
    found += [
        (m["Key"], m["VersionId"], m["IsLatest"], True, m["LastModified"])
        for m in page.get("DeleteMarkers", [])
    ]
    # Within a key, newest first: the latest entry first, then by time (equal times keep order).
    found.sort(key=lambda e: (e[0].encode(), not e[2], -e[4].timestamp()))
    return [e[:4] for e in found]


def test_full_listing_order(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, expected = populated
    page = s3.list_object_versions(Bucket=name)
    assert page["IsTruncated"] is False
    got = entries(page)
    assert sorted(got) == sorted(expected)
    assert [e[0] for e in got] == [e[0] for e in expected]
    latest = {(k, v) for k, v, is_latest, _dm in expected if is_latest}
    assert {(k, v) for k, v, is_latest, _dm in got if is_latest} == latest


def test_pages_resume_from_markers(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, expected = populated
    for size in (1, 2, 5):
        walked: list[tuple[str, str]] = []
        params: dict[str, Any] = {"Bucket": name, "MaxKeys": size}
        for _ in range(len(expected) + 2):
            page = s3.list_object_versions(**params)
            items = [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
            items += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
            assert len(items) <= size
            walked += items
            if not page["IsTruncated"]:
                break
            params["KeyMarker"] = page["NextKeyMarker"]
            params["VersionIdMarker"] = page["NextVersionIdMarker"]
        assert sorted(walked) == sorted((k, v) for k, v, _l, _d in expected)
        assert [k for k, _v in walked] == [k for k, _v, _l, _d in expected]


def test_paginator_walks_everything(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, expected = populated
    seen = 0
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=name, PaginationConfig={"PageSize": 4}
    ):
        seen += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    assert seen == len(expected)


def test_key_marker_alone_skips_the_whole_key(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, _expected = populated
    page = s3.list_object_versions(Bucket=name, KeyMarker="b")
    assert {e[0] for e in entries(page)} == {"c", "\u00e9"}
    assert page["KeyMarker"] == "b"


def test_version_marker_needs_a_key_marker(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, _expected = populated
    with pytest.raises(ClientError) as excinfo:
        s3.list_object_versions(Bucket=name, VersionIdMarker="x" * 32)
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_prefix_and_delimiter(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, _expected = populated
    page = s3.list_object_versions(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/"]
    assert "a/1" not in {v["Key"] for v in page["Versions"]}
    page = s3.list_object_versions(Bucket=name, Prefix="a/")
    assert [v["Key"] for v in page["Versions"]] == ["a/1"] * 3 + ["a/2"] * 3
    # A page that ends on a common prefix resumes after everything under it.
    first = s3.list_object_versions(Bucket=name, Delimiter="/", MaxKeys=4)  # a%20b x3, then a/
    assert first["CommonPrefixes"] == [{"Prefix": "a/"}] and first["NextKeyMarker"] == "a/"
    assert "NextVersionIdMarker" not in first
    rest = s3.list_object_versions(Bucket=name, Delimiter="/", KeyMarker="a/")
    assert "CommonPrefixes" not in rest
    assert {v["Key"] for v in rest["Versions"]} == {"b", "c", "\u00e9"}


def test_url_encoding(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, _expected = populated
    raw = s3.list_object_versions(Bucket=name, Prefix="a%", EncodingType="url")
    assert raw["EncodingType"] == "url"
    # Asked for by the caller, the encoding stays (botocore decodes only what it asked for itself).
    assert {v["Key"] for v in raw["Versions"]} == {"a%2520b"}
    assert s3.list_object_versions(Bucket=name, Prefix="a%")["Versions"][0]["Key"] == "a%20b"


def test_list_objects_hides_delete_markers(s3: Any, populated: tuple[str, list[Any]]) -> None:
    name, _expected = populated
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert keys == sorted((k for k in KEYS if k != "c"), key=lambda k: k.encode())
    assert [o["Key"] for o in s3.list_objects(Bucket=name)["Contents"]] == keys


@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_deleting_each_page_before_the_next_empties_the_bucket(s3: Any, page_size: int) -> None:
    """How cleanup tools and scripts empty a versioned bucket: list a page,
    delete its versions, ask for the next page with the markers the deleted page returned. S3 goes
    on after a deleted marker version with what followed it, so nothing is left behind."""
    name = unique("vempty")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for key in ("a", "b", "c"):
        for _ in range(3):
            s3.put_object(Bucket=name, Key=key, Body=b"v")
    s3.delete_object(Bucket=name, Key="b")  # a delete marker on top of b's versions
    markers: dict[str, str] = {}
    deleted = 0
    for _page in range(20):
        page = s3.list_object_versions(Bucket=name, MaxKeys=page_size, **markers)
        listed = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if listed:
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed]
            assert not s3.delete_objects(Bucket=name, Delete={"Objects": objects}).get("Errors")
            deleted += len(listed)
        if not page["IsTruncated"]:
            break
        markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert deleted == 10
    remaining = s3.list_object_versions(Bucket=name)
    assert not remaining.get("Versions") and not remaining.get("DeleteMarkers")
    s3.delete_bucket(Bucket=name)


def test_a_listing_goes_on_after_a_version_deleted_by_someone_else(s3: Any) -> None:
    """The version a page ended on is deleted by another client: the next page goes on with what
    came after it, the key's older versions and then the keys after it."""
    name = unique("vgone")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    ids = {
        key: [s3.put_object(Bucket=name, Key=key, Body=b"v")["VersionId"] for _ in range(3)] for key in "ab"
    }
    first = s3.list_object_versions(Bucket=name, MaxKeys=2)  # a's two newest versions
    assert [v["VersionId"] for v in first["Versions"]] == [ids["a"][2], ids["a"][1]]
    s3.delete_object(Bucket=name, Key="a", VersionId=ids["a"][1])
    rest = s3.list_object_versions(
        Bucket=name, KeyMarker=first["NextKeyMarker"], VersionIdMarker=first["NextVersionIdMarker"]
    )
    assert [(v["Key"], v["VersionId"]) for v in rest["Versions"]] == [
        ("a", ids["a"][0]),
        *[("b", version) for version in reversed(ids["b"])],
    ]


def test_after_a_deleted_version_newer_ones_still_there_are_not_shown_again(s3: Any) -> None:
    name = unique("vdeep")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=name, Key="a", Body=b"v")["VersionId"] for _ in range(5)]
    first = s3.list_object_versions(Bucket=name, MaxKeys=3)  # the three newest
    assert first["NextVersionIdMarker"] == ids[2]
    s3.delete_object(Bucket=name, Key="a", VersionId=ids[2])
    markers = {"KeyMarker": first["NextKeyMarker"], "VersionIdMarker": first["NextVersionIdMarker"]}
    shown = []
    for _page in range(5):
        page = s3.list_object_versions(Bucket=name, MaxKeys=1, **markers)
        shown += [v["VersionId"] for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert shown == [ids[1], ids[0]]
