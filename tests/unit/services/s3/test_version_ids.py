"""Version ids carry the time of their write, so a listing can go on after a deleted one."""

from __future__ import annotations

import secrets

from hypothesis import given
from hypothesis import strategies as st

from kumoi.services.s3 import versioning

_TIMES = st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False)  # up to 2100


@given(_TIMES)
def test_an_id_tells_when_its_version_was_written(written: float) -> None:
    version_id = versioning.new_version_id(written)
    assert len(version_id) == 32
    assert versioning.requested_id(version_id) == version_id  # well-formed as a request names it
    told = versioning.written_at(version_id)
    assert told is not None and abs(told - written) <= 2e-6  # microseconds, as a float holds them


@given(_TIMES, _TIMES)
def test_ids_order_as_their_writes(first: float, second: float) -> None:
    earlier, later = sorted((first, second))
    if later - earlier >= 4e-6:
        told = [versioning.written_at(versioning.new_version_id(t)) for t in (earlier, later)]
        assert told[0] is not None and told[1] is not None and told[0] < told[1]


def test_ids_without_a_time_tell_nothing() -> None:
    # Ids issued before they carried a time were random throughout; "null" names the null version.
    assert versioning.written_at("Vb4X2WNsPxq9J6j3s1p8xMzWzZ0nq0yS") is None
    assert versioning.written_at("null") is None
    assert versioning.written_at("!" * 32) is None
    told = [versioning.written_at(secrets.token_urlsafe(24)) for _ in range(200)]
    assert told.count(None) >= 199  # a random id starts with the 2-byte tag once in 65,536
