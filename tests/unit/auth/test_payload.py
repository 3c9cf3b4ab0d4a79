"""The signed-payload check hashes large bodies in batches off the event loop, small ones on it,
and fails the final read on any difference, whatever the chunking."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from kumoi.auth.payload import HASH_BATCH, Sha256VerifyingBody, update_on_loop
from kumoi.core.checksums import HOLD_GIL_LIMIT
from kumoi.core.errors import ServiceError
from kumoi.core.streams import BytesBody, defer_check


async def _drain(body: Sha256VerifyingBody, n: int) -> bytes:
    parts = []
    while chunk := await body.read(n):
        parts.append(chunk)
    return b"".join(parts)


@pytest.mark.parametrize("size", [0, 10, HASH_BATCH - 1, HASH_BATCH, 3 * HASH_BATCH + 17])
@pytest.mark.parametrize("read_size", [1000, 64 * 1024, 1 << 20])
def test_body_passes_through_and_verifies(size: int, read_size: int) -> None:
    data = os.urandom(size)
    body = Sha256VerifyingBody(BytesBody(data), hashlib.sha256(data).hexdigest().upper())
    assert asyncio.run(_drain(body, read_size)) == data


@pytest.mark.parametrize("size", [10, 3 * HASH_BATCH + 17])
def test_a_changed_byte_fails_the_last_read_and_every_read_after(size: int) -> None:
    data = bytearray(os.urandom(size))
    expected = hashlib.sha256(data).hexdigest()
    data[size // 2] ^= 1
    body = Sha256VerifyingBody(BytesBody(bytes(data)), expected)

    async def scenario() -> None:
        with pytest.raises(ServiceError) as caught:
            await _drain(body, 64 * 1024)
        assert caught.value.code == "XAmzContentSHA256Mismatch"
        with pytest.raises(ServiceError):
            await body.read()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "sizes",
    [
        [],
        [0],
        [1],
        [2046],
        [2047],
        [2048],
        [4096],
        [2047, 2048, 1],
        [5000, 10],
        [HOLD_GIL_LIMIT + 1],
        [70000, 3],
    ],
)
def test_hashing_on_the_loop_in_small_pieces_hashes_everything(sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    digest = hashlib.sha256()
    update_on_loop(digest, chunks, sum(sizes))
    assert digest.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


@pytest.mark.parametrize("size", [0, 10, 3 * HASH_BATCH + 17])
def test_a_handed_over_check_leaves_reads_alone_and_verifies_what_its_consumer_feeds(size: int) -> None:
    data = os.urandom(size)
    changed = data[:-1] + bytes([data[-1] ^ 1]) if data else b"x"
    body = Sha256VerifyingBody(BytesBody(changed), hashlib.sha256(data).hexdigest())
    check = defer_check(body)
    assert check is not None
    assert asyncio.run(_drain(body, 64 * 1024)) == changed  # no check of its own at the end
    check.update(changed)
    with pytest.raises(ServiceError) as caught:
        check.verify()
    assert caught.value.code == "XAmzContentSHA256Mismatch"
    right = defer_check(Sha256VerifyingBody(BytesBody(data), hashlib.sha256(data).hexdigest().upper()))
    assert right is not None
    right.update(data)
    right.verify()


def test_the_check_is_not_handed_over_once_reading_began() -> None:
    body = Sha256VerifyingBody(BytesBody(b"abc"), hashlib.sha256(b"abd").hexdigest())

    async def scenario() -> None:
        assert await body.read(1) == b"a"
        assert defer_check(body) is None
        with pytest.raises(ServiceError):
            await _drain(body, 1)

    asyncio.run(scenario())
    assert defer_check(BytesBody(b"abc")) is None
