"""aws-chunked trailer checksums over bodies of several MiB: computed in batches off the loop."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest

from kumoi.auth.chunked import CHECKSUM_BATCH, AwsChunkedBody
from kumoi.core.checksums import Checksum, Digests
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BytesBody, defer_check


def framed(data: bytes, chunk: int, trailers: list[tuple[str, str]]) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(data[at : at + chunk]), data[at : at + chunk])
        for at in range(0, len(data), chunk)
    ]
    parts.append(b"0\r\n")
    parts.extend(f"{name}:{value}\r\n".encode() for name, value in trailers)
    parts.append(b"\r\n")
    return b"".join(parts)


def digest(algorithm: str, data: bytes) -> str:
    checksum = Checksum(algorithm)
    checksum.update(data)
    return checksum.b64digest()


async def read_all(body: AwsChunkedBody, n: int) -> bytes:
    out = bytearray()
    while piece := await body.read(n):
        out += piece
    return bytes(out)


@pytest.mark.parametrize("algorithm", ["crc32", "crc64nvme", "sha256"])
@pytest.mark.parametrize(
    ("chunk", "read_size"), [(1 << 20, 1 << 20), (65_536, 100_000), (3 * CHECKSUM_BATCH, 7_777)]
)
def test_large_bodies_verify_their_trailer(algorithm: str, chunk: int, read_size: int) -> None:
    data = os.urandom(3 * CHECKSUM_BATCH + 4321)
    name = f"x-amz-checksum-{algorithm}"

    async def main() -> None:
        good = AwsChunkedBody(
            BytesBody(framed(data, chunk, [(name, digest(algorithm, data))])),
            signed=False,
            trailer=True,
            declared_trailers=(name,),
            decoded_length=len(data),
        )
        assert await read_all(good, read_size) == data
        bad = AwsChunkedBody(
            BytesBody(framed(data, chunk, [(name, digest(algorithm, data[:-1] + bytes([data[-1] ^ 1])))])),
            signed=False,
            trailer=True,
            declared_trailers=(name,),
        )
        with pytest.raises(ServiceError) as raised:
            await read_all(bad, read_size)
        assert raised.value.code == "BadDigest"

    asyncio.run(main())


def _trailed(data: bytes, name: str, value: str) -> AwsChunkedBody:
    framing = BytesBody(framed(data, 65_536, [(name, value)]))
    return AwsChunkedBody(framing, signed=False, trailer=True, declared_trailers=(name,))


@pytest.mark.parametrize("algorithm", ["crc32", "sha256"])
def test_a_handed_over_trailer_check_is_computed_once_by_its_consumer(algorithm: str) -> None:
    """Taken over, the declared checksum is no longer computed or checked by the reads; the
    consumer's digests share it (one computation) and its verify answers BadDigest."""
    data = os.urandom(CHECKSUM_BATCH + 12345)
    name = f"x-amz-checksum-{algorithm}"
    changed = data[:-1] + bytes([data[-1] ^ 1])
    for value, good in ((digest(algorithm, data), True), (digest(algorithm, changed), False)):
        body = _trailed(data, name, value)
        check = defer_check(body)
        assert check is not None
        assert set(check.running()) == {algorithm}
        assert asyncio.run(read_all(body, 100_000)) == data  # no BadDigest from the reads
        digests = Digests([algorithm], check)
        digests.update(data)  # fed once: a checksum the check shares is not updated twice
        assert base64.b64encode(digests.checksums()[algorithm]).decode() == digest(algorithm, data)
        if good:
            check.verify()
        else:
            with pytest.raises(ServiceError) as raised:
                check.verify()
            assert raised.value.code == "BadDigest"


def test_the_trailer_check_is_not_handed_over_without_checksums_or_once_reading_began() -> None:
    assert defer_check(AwsChunkedBody(BytesBody(framed(b"abc", 2, [])), signed=False, trailer=True)) is None
    body = _trailed(b"abc", "x-amz-checksum-crc32", digest("crc32", b"abd"))

    async def scenario() -> None:
        assert await body.read(1) == b"a"
        assert defer_check(body) is None
        with pytest.raises(ServiceError) as raised:
            await read_all(body, 1)
        assert raised.value.code == "BadDigest"

    asyncio.run(scenario())
