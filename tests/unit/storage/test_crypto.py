"""The sealed format: round trips, tampering, truncation, reordering, ranges, rewrapping, and the
local blob store writing sealed blobs whose plaintext digests are still reported."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.storage.blob import crypto
from kumoi.storage.blob.localfs import FLUSH_SIZE, LocalBlobStore

CHUNK = crypto.CHUNK_SIZE


def keyring() -> crypto.Keyring:
    return crypto.Keyring(crypto.MasterKey.generate())


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_seal_all_round_trips_and_hides_the_plaintext(size: int) -> None:
    ring = keyring()
    data = (b"secret-pattern!" * (size // 15 + 1))[:size]
    sealed = crypto.sealer_for_master(ring).seal_all(data)
    assert len(sealed) == crypto.sealed_size(size)
    assert size < 15 or b"secret-pattern!" not in sealed
    assert crypto.open_all(sealed, ring) == data


def test_tampered_truncated_or_reordered_data_does_not_open() -> None:
    ring = keyring()
    data = os.urandom(2 * CHUNK + 10)
    sealed = bytearray(crypto.sealer_for_master(ring).seal_all(data))
    flipped = bytes(sealed[:-1]) + bytes([sealed[-1] ^ 1])
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(flipped, ring)
    truncated = bytes(sealed[: crypto.chunk_offset(2)])
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(truncated, ring)
    first = sealed[crypto.chunk_offset(0) : crypto.chunk_offset(1)]
    second = sealed[crypto.chunk_offset(1) : crypto.chunk_offset(2)]
    swapped = (
        bytes(sealed[: crypto.HEADER_SIZE]) + bytes(second + first) + bytes(sealed[crypto.chunk_offset(2) :])
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(swapped, ring)


def test_other_master_key_or_missing_key_does_not_open() -> None:
    sealed = crypto.sealer_for_master(keyring()).seal_all(b"x")
    with pytest.raises(crypto.UnknownMasterKey):
        crypto.open_all(sealed, keyring())
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(b"plain text that is long enough" * 10, keyring())


def test_customer_keys_open_only_with_the_same_key() -> None:
    key = os.urandom(32)
    sealed = crypto.sealer_for_customer(key).seal_all(b"customer data")
    assert crypto.open_all(sealed, keyring(), key) == b"customer data"
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(sealed, keyring(), os.urandom(32))
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(sealed, keyring())
    check = crypto.key_check(key)
    assert key.hex() not in check
    assert crypto.key_matches(key, check)
    assert not crypto.key_matches(os.urandom(32), check)
    assert crypto.rewrap_header(sealed[: crypto.HEADER_SIZE], keyring()) is None


def test_rewrap_changes_only_the_header() -> None:
    old = crypto.MasterKey.generate()
    new = crypto.MasterKey.generate()
    data = os.urandom(CHUNK + 5)
    sealed = crypto.sealer_for_master(crypto.Keyring(old)).seal_all(data)
    rotated = crypto.Keyring(new, (old,))
    header = crypto.rewrap_header(sealed[: crypto.HEADER_SIZE], rotated)
    assert header is not None and len(header) == crypto.HEADER_SIZE
    resealed = header + sealed[crypto.HEADER_SIZE :]
    assert crypto.open_all(resealed, crypto.Keyring(new)) == data
    assert crypto.rewrap_header(header, rotated) is None


def test_chunk_span() -> None:
    size = 3 * CHUNK + 7
    assert crypto.chunk_span(size, 0, size) == (0, 3)
    assert crypto.chunk_span(size, CHUNK, 1) == (1, 1)
    assert crypto.chunk_span(size, CHUNK - 1, 2) == (0, 1)
    assert crypto.chunk_span(size, size - 1, 1) == (3, 3)
    assert crypto.chunk_count(0) == 1


@pytest.mark.parametrize("size", [0, 100, CHUNK, FLUSH_SIZE, FLUSH_SIZE + 1, 5 * FLUSH_SIZE + 3])
def test_local_store_writes_sealed_blobs(tmp_path: Path, size: int) -> None:
    ring = keyring()
    data = os.urandom(size)

    async def scenario() -> tuple[str, int, bytes]:
        store = LocalBlobStore(tmp_path)
        await store.start()
        try:
            writer = store.new_writer(["crc32"], crypto.sealer_for_master(ring))
            # Odd write sizes: the writer must realign to whole chunks.
            for start in range(0, size, 70_001):
                await writer.write(data[start : start + 70_001])
            info = await writer.commit()
            return info.blob_id, info.size, info.md5
        finally:
            await store.close()

    blob_id, reported, md5 = asyncio.run(scenario())
    assert reported == size
    assert md5 == hashlib.md5(data).digest()
    raw = (tmp_path / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id).read_bytes()
    assert len(raw) == crypto.sealed_size(size)
    assert crypto.open_all(raw, ring) == data
    if size >= 64:
        assert data[:64] not in raw


def seal_pieces(
    cipher: crypto.ChunkCipher, first: int, pieces: list[bytes | memoryview], final: bool
) -> bytes:
    out = bytearray(cipher.sealed_length(sum(len(piece) for piece in pieces)))
    assert cipher.seal_pieces(first, pieces, final, memoryview(out)) == len(out)
    return bytes(out)


def test_sealing_into_a_buffer_too_small_is_refused() -> None:
    cipher = crypto.sealer_for_master(keyring())
    with pytest.raises(ValueError):
        cipher.seal_pieces(0, [bytes(CHUNK)], True, memoryview(bytearray(CHUNK)))


@pytest.mark.parametrize("size", [1, CHUNK - 1, CHUNK, 3 * CHUNK + 5])
@pytest.mark.parametrize("first", [0, 7])
def test_sealing_and_opening_many_chunks_into_one_buffer_matches_chunk_by_chunk(
    size: int, first: int
) -> None:
    ring = keyring()
    cipher = crypto.sealer_for_master(ring)
    data = os.urandom(size)
    count = crypto.chunk_count(size)
    final = first + count - 1
    sealed = seal_pieces(cipher, first, [memoryview(data)], True)
    pieces = [data[i * CHUNK : (i + 1) * CHUNK] for i in range(count)]
    assert bytes(sealed) == b"".join(
        cipher.seal(first + i, piece, i == count - 1) for i, piece in enumerate(pieces)
    )
    opener = crypto.opener(cipher.header, ring)
    out = bytearray(size)
    assert opener.open_into(first, bytes(sealed), out, final) == size
    assert bytes(out) == data
    # Sealed as not final, the same chunks do not open as the blob's end.
    middle = seal_pieces(cipher, first, [data], False)
    with pytest.raises(crypto.DecryptionError):
        opener.open_into(first, bytes(middle), bytearray(size), final)


def test_open_into_rejects_tampered_and_cut_chunks() -> None:
    ring = keyring()
    cipher = crypto.sealer_for_master(ring)
    sealed = seal_pieces(cipher, 0, [os.urandom(2 * CHUNK)], True)
    flipped = sealed[:10] + bytes([sealed[10] ^ 1]) + sealed[11:]
    with pytest.raises(crypto.DecryptionError):
        cipher.open_into(0, flipped, bytearray(2 * CHUNK), 1)
    with pytest.raises(crypto.DecryptionError):
        cipher.open_into(0, sealed[: crypto.SEALED_CHUNK + 5], bytearray(2 * CHUNK), 1)
    with pytest.raises(crypto.DecryptionError):
        cipher.open_into(0, sealed[: crypto.SEALED_CHUNK + crypto.TAG_SIZE - 1], bytearray(2 * CHUNK), 1)
    with pytest.raises(crypto.DecryptionError):
        cipher.open_into(0, sealed, bytearray(CHUNK), 1)


def test_inline_data_keys_are_remembered_per_keyring_and_never_for_customer_keys() -> None:
    ring = keyring()
    sealed = crypto.sealer_for_master(ring).seal_all(b"small object")
    assert crypto.open_all(sealed, ring) == b"small object"
    assert crypto.open_all(sealed, ring) == b"small object"
    assert list(ring.opened) == [sealed[: crypto.HEADER_SIZE]]
    with pytest.raises(crypto.UnknownMasterKey):
        crypto.open_all(sealed, keyring())
    customer = os.urandom(crypto.KEY_SIZE)
    private = crypto.sealer_for_customer(customer).seal_all(b"mine")
    assert crypto.open_all(private, ring, customer) == b"mine"
    assert len(ring.opened) == 1
    with pytest.raises(crypto.DecryptionError):
        crypto.open_all(private, ring)


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=3 * CHUNK + 7), max_size=6),
    size=st.integers(min_value=0, max_value=3 * CHUNK + 7),
    first=st.integers(min_value=0, max_value=3),
    final=st.booleans(),
    reused=st.integers(min_value=0, max_value=4 * CHUNK),
)
def test_sealing_pieces_matches_sealing_their_bytes_chunk_by_chunk(
    cuts: list[int], size: int, first: int, final: bool, reused: int
) -> None:
    """However the bytes are split into pieces (empty ones too), and whatever the reused buffer
    held before, the sealed bytes are those of sealing each chunk on its own."""
    cipher = crypto.sealer_for_master(keyring())
    data = bytes(i % 251 for i in range(size))
    bounds = sorted({min(cut, size) for cut in cuts} | {0, size})
    pieces: list[bytes | memoryview] = [memoryview(data)[a:b] for a, b in itertools.pairwise(bounds)]
    pieces.insert(len(pieces) // 2, b"")
    out = bytearray(b"\xee" * (cipher.sealed_length(size) + reused))
    length = cipher.seal_pieces(first, pieces, final, memoryview(out))
    assert length == cipher.sealed_length(size)
    sealed = out[:length]
    count = crypto.chunk_count(size)
    chunks = [data[i * CHUNK : (i + 1) * CHUNK] for i in range(count)]
    expected = b"".join(
        cipher.seal(first + i, chunk, final and i == count - 1) for i, chunk in enumerate(chunks)
    )
    assert bytes(sealed) == expected
