"""aws-chunked trailer checksums over bodies of several MiB: computed in batches off the loop."""

from __future__ import annotations

import asyncio
import os

import pytest

from kumoi.auth.chunked import CHECKSUM_BATCH, AwsChunkedBody
from kumoi.core.checksums import Checksum
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BytesBody


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
