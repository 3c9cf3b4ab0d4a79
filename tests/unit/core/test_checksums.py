"""Running checksums give S3's values however the body is split (CRC32 from zlib, the other CRCs
from awscrt)."""

from __future__ import annotations

import base64
import hashlib

from awscrt import checksums as crt
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.checksums import (
    ALGORITHMS,
    GIL_RELEASE_SIZE,
    HOLD_GIL_LIMIT,
    Checksum,
    Digests,
    pieces_holding_gil,
)

_WHOLE = {"crc32": (crt.crc32, 4), "crc32c": (crt.crc32c, 4), "crc64nvme": (crt.crc64nvme, 8)}


def test_known_values() -> None:
    # S3's documented checksums of b"Hello world" (base64 of the big-endian CRC).
    expected = {"crc32": "i9aeUg==", "crc32c": "crUfeA==", "crc64nvme": "OOJZ0D8xKts="}
    for algorithm, value in expected.items():
        checksum = Checksum(algorithm)
        checksum.update(b"Hello world")
        assert checksum.b64digest() == value, algorithm


@given(st.lists(st.binary(max_size=300), max_size=8), st.sampled_from(ALGORITHMS))
def test_chunking_does_not_change_the_digest(chunks: list[bytes], algorithm: str) -> None:
    whole, pieces = Checksum(algorithm), Checksum(algorithm)
    whole.update(b"".join(chunks))
    for chunk in chunks:
        pieces.update(chunk)
    assert pieces.digest() == whole.digest()
    if algorithm in _WHOLE:
        function, width = _WHOLE[algorithm]
        reference = function(b"".join(chunks), 0).to_bytes(width, "big")
        assert whole.digest() == reference
        assert base64.b64decode(whole.b64digest()) == reference


_SIZES = st.sampled_from([0, 1, GIL_RELEASE_SIZE - 1, GIL_RELEASE_SIZE, 4096, 3 * GIL_RELEASE_SIZE - 3])


@settings(max_examples=50)
@given(_SIZES | st.integers(0, HOLD_GIL_LIMIT + 10), st.lists(st.sampled_from(ALGORITHMS), max_size=2))
def test_digests_fed_on_the_loop_equal_one_update(size: int, algorithms: list[str]) -> None:
    """The event loop's update (pieces that keep the GIL) gives what one update gives."""
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    on_loop, whole = Digests(algorithms), Digests(algorithms)
    on_loop.update_on_loop(data)
    whole.update(data)
    assert on_loop.md5() == whole.md5() == hashlib.md5(data).digest()
    assert on_loop.checksums() == whole.checksums()


@given(st.integers(0, 5 * GIL_RELEASE_SIZE))
def test_pieces_holding_gil_are_below_hashlibs_threshold(size: int) -> None:
    data = bytes(size)
    pieces = pieces_holding_gil(data)
    assert b"".join(pieces) == data
    assert all(len(piece) < GIL_RELEASE_SIZE for piece in pieces)
