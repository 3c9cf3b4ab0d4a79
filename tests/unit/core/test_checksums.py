"""Running checksums give S3's values however the body is split (CRC32 from zlib, the other CRCs
from awscrt)."""

from __future__ import annotations

import base64

from awscrt import checksums as crt
from hypothesis import given
from hypothesis import strategies as st

from kumoi.core.checksums import ALGORITHMS, Checksum

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
