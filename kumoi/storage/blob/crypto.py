"""Encryption at rest: AES-256-GCM in independently sealed chunks under a per-blob data key.

Sealed layout (a blob file, or an inline object's bytes)::

    header (HEADER_SIZE bytes) | chunk 0 | chunk 1 | ... | chunk n-1

The header holds the magic, the format version, how the data key is wrapped (by a kumoi master
key, or by an SSE-C customer key), the wrapping master key's id, and the data key wrapped with
AES-GCM. Each chunk is :data:`CHUNK_SIZE` plaintext bytes (the last one 0..CHUNK_SIZE) sealed
with its own nonce (the chunk index: the data key is fresh per blob, so nonces never repeat
under one key) and its 16-byte tag. The associated data binds the chunk index and whether the
chunk is the last, so chunks cannot be reordered and a truncated file does not decrypt.

Range reads decrypt only the chunks they overlap (:func:`chunk_span`). Key rotation rewraps the
data key and rewrites the header alone (:func:`rewrap_header`); the chunks are never touched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kumoi.core import secret_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM


#: Plaintext bytes per sealed chunk.
CHUNK_SIZE = 64 * 1024
#: AES-GCM tag bytes appended to every chunk.
TAG_SIZE = 16
#: Bytes of one full sealed chunk on disk.
SEALED_CHUNK = CHUNK_SIZE + TAG_SIZE
#: Bytes of the header before the first chunk (fixed, so a rewrap never moves data).
HEADER_SIZE = 128
#: Bytes of a key (AES-256) and of a key id.
KEY_SIZE = 32
KEY_ID_SIZE = 16
NONCE_SIZE = 12
MAGIC = b"KUMOIENC"
VERSION = 1
#: How a header's data key is wrapped.
WRAP_MASTER = 1
WRAP_CUSTOMER = 2

#: Plaintext as the sealing functions take it.
Plain = bytes | bytearray | memoryview

_HEADER = struct.Struct(f">8sBB{KEY_ID_SIZE}s{NONCE_SIZE}s{KEY_SIZE + TAG_SIZE}s")
_NO_KEY_ID = bytes(KEY_ID_SIZE)


class DecryptionError(ValueError):
    """Sealed data that does not authenticate: wrong key, damaged or truncated."""


class UnknownMasterKey(DecryptionError):
    """A header wrapped by a master key the keyring does not hold."""


@dataclass(frozen=True, slots=True)
class MasterKey:
    key_id: bytes
    key: bytes

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_ID_SIZE), secrets.token_bytes(KEY_SIZE))


#: Unwrapped data keys of inline objects a keyring keeps (see :func:`open_all`).
OPENED_CACHE_SIZE = 4096


class Keyring:
    """The master keys data keys may be wrapped by; new data keys go under ``active``.

    It also remembers the ciphers of the last :data:`OPENED_CACHE_SIZE` inline objects opened
    under its master keys, by their sealed header (unique per object: fresh data key and nonce),
    so reading a small sealed object again does not unwrap its data key again. Only
    :func:`open_all` uses them, on one thread; SSE-C data keys are never kept."""

    def __init__(self, active: MasterKey, others: tuple[MasterKey, ...] = ()) -> None:
        self.active = active
        self._keys = {key.key_id: key for key in (*others, active)}
        self.opened: dict[bytes, ChunkCipher] = {}
        self._active_aead: AESGCM | None = None

    def active_aead(self) -> AESGCM:
        """The cipher of the active master key, made once: every new blob's data key is wrapped
        with it."""
        if self._active_aead is None:
            self._active_aead = _aead(self.active.key)
        return self._active_aead

    def get(self, key_id: bytes) -> MasterKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownMasterKey(f"no master key {key_id.hex()}") from None


@dataclass(frozen=True, slots=True)
class Header:
    wrap: int
    key_id: bytes
    nonce: bytes
    wrapped: bytes

    def pack(self) -> bytes:
        packed = _HEADER.pack(MAGIC, VERSION, self.wrap, self.key_id, self.nonce, self.wrapped)
        return packed.ljust(HEADER_SIZE, b"\0")

    @classmethod
    def unpack(cls, data: bytes) -> Header:
        if len(data) < HEADER_SIZE:
            raise DecryptionError("sealed data shorter than its header")
        magic, version, wrap, key_id, nonce, wrapped = _HEADER.unpack_from(data)
        if magic != MAGIC or version != VERSION or wrap not in (WRAP_MASTER, WRAP_CUSTOMER):
            raise DecryptionError("not sealed data")
        return cls(wrap, key_id, nonce, wrapped)

    def associated(self) -> bytes:
        return _associated(self.wrap, self.key_id)


def _associated(wrap: int, key_id: bytes) -> bytes:
    """What a wrapped data key is bound to: the format, how it is wrapped, and by which key."""
    return MAGIC + bytes((VERSION, wrap)) + key_id


def _wrap(wrap: int, key_id: bytes, wrapping: AESGCM, data_key: bytes) -> Header:
    nonce = secret_bytes.token_bytes(NONCE_SIZE)
    return Header(wrap, key_id, nonce, wrapping.encrypt(nonce, data_key, _associated(wrap, key_id)))


def _unwrap(header: Header, wrapping_key: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return _aead(wrapping_key).decrypt(header.nonce, header.wrapped, header.associated())
    except InvalidTag:
        raise DecryptionError("the data key does not unwrap with this key") from None


def _aead(key: bytes) -> AESGCM:
    # cryptography is imported at first use: its native module costs ~6 MiB a server that
    # stores nothing sealed would carry from start-up.
    global _AESGCM
    if _AESGCM is None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        _AESGCM = AESGCM
    return _AESGCM(key)


_AESGCM: type[AESGCM] | None = None


class ChunkCipher:
    """Seals and opens the chunks of one blob under its data key."""

    __slots__ = ("_aead", "header")

    def __init__(self, data_key: bytes, header: bytes) -> None:
        self._aead = _aead(data_key)
        self.header = header

    chunk_size = CHUNK_SIZE

    def seal(self, index: int, data: bytes | memoryview, final: bool) -> bytes:
        return self._aead.encrypt(_nonce(index), data, _chunk_ad(index, final))

    def open(self, index: int, sealed: bytes | memoryview, final: bool) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(_nonce(index), sealed, _chunk_ad(index, final))
        except InvalidTag:
            raise DecryptionError(f"chunk {index} does not authenticate") from None

    def sealed_length(self, plain: int) -> int:
        """Bytes that ``plain`` plaintext bytes take sealed: chunks and tags, no header."""
        return plain + chunk_count(plain) * TAG_SIZE

    def seal_pieces(self, first: int, pieces: Sequence[Plain], final: bool, out: memoryview) -> int:
        """Seal the bytes of ``pieces``, one after the other, as chunks ``first``, ``first + 1``,
        ... (every chunk whole but the last, which is sealed as the blob's final one if ``final``)
        into the start of ``out``, which must hold :meth:`sealed_length` bytes; returns that length.

        A writer seals straight into its staging buffer, so no fresh (zeroed) memory is taken per
        flush, and a chunk that lies inside one piece is sealed from it in place: only chunks that
        span two pieces are gathered first.
        """
        views = [memoryview(piece).cast("B") for piece in pieces]
        size = sum(view.nbytes for view in views)
        count = chunk_count(size)
        need = size + count * TAG_SIZE
        if out.nbytes < need:
            raise ValueError(f"{need} sealed bytes do not fit into {out.nbytes}")
        at = 0
        for i, chunk in enumerate(_chunk_views(views, size)):
            end = at + len(chunk) + TAG_SIZE
            index = first + i
            self._aead.encrypt_into(
                _nonce(index), chunk, _chunk_ad(index, final and i == count - 1), out[at:end]
            )
            at = end
        return need

    def open_into(
        self, first: int, sealed: bytes | bytearray | memoryview, out: bytearray | memoryview, final: int
    ) -> int:
        """Open the consecutive sealed chunks in ``sealed`` (chunk ``first`` onwards; ``final`` is
        the index of the blob's last chunk) straight into ``out``: no plaintext copy per chunk.
        Returns the plaintext bytes written."""
        from cryptography.exceptions import InvalidTag

        view, target = memoryview(sealed), memoryview(out)
        written = 0
        for index, at in enumerate(range(0, len(view), SEALED_CHUNK), first):
            piece = view[at : at + SEALED_CHUNK]
            size = len(piece) - TAG_SIZE
            if size < 0 or written + size > len(target):
                raise DecryptionError("sealed data does not have the size its record says")
            try:
                self._aead.decrypt_into(
                    _nonce(index), piece, _chunk_ad(index, index == final), target[written : written + size]
                )
            except InvalidTag:
                raise DecryptionError(f"chunk {index} does not authenticate") from None
            written += size
        return written

    def seal_all(self, data: bytes) -> bytes:
        """``data`` sealed whole: header and every chunk (for inline objects)."""
        count = chunk_count(len(data))
        parts = [self.header]
        for index in range(count):
            piece = data[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE]
            parts.append(self.seal(index, piece, index == count - 1))
        return b"".join(parts)


def _chunk_views(views: list[memoryview], size: int) -> Iterator[Plain]:
    """The consecutive :data:`CHUNK_SIZE` chunks of ``size`` bytes spread over ``views`` (the last
    one shorter, or empty when ``size`` is 0): views where a chunk lies in one view, a gathered
    copy where it spans several."""
    if not size:
        yield b""
        return
    gathered: list[memoryview] = []
    wanted = CHUNK_SIZE
    for view in views:
        while view.nbytes:
            if not gathered and view.nbytes >= CHUNK_SIZE:
                yield view[:CHUNK_SIZE]
                view = view[CHUNK_SIZE:]
                continue
            take = view[:wanted]
            gathered.append(take)
            wanted -= take.nbytes
            view = view[take.nbytes :]
            if not wanted:
                yield b"".join(gathered)
                gathered, wanted = [], CHUNK_SIZE
    if gathered:
        yield b"".join(gathered)


def _nonce(index: int) -> bytes:
    return index.to_bytes(NONCE_SIZE, "big")


def _chunk_ad(index: int, final: bool) -> bytes:
    return b"kumoi-chunk" + index.to_bytes(8, "big") + (b"\1" if final else b"\0")


def chunk_count(size: int) -> int:
    """Chunks of a plaintext of ``size`` bytes (an empty one still has its final, empty chunk)."""
    return max(1, -(-size // CHUNK_SIZE))


def sealed_size(size: int) -> int:
    return HEADER_SIZE + size + chunk_count(size) * TAG_SIZE


def chunk_offset(index: int) -> int:
    """Where sealed chunk ``index`` starts."""
    return HEADER_SIZE + index * SEALED_CHUNK


def chunk_span(size: int, offset: int, length: int) -> tuple[int, int]:
    """The first and last chunk index holding plaintext bytes ``[offset, offset+length)``."""
    last = chunk_count(size) - 1
    if length <= 0:
        return offset // CHUNK_SIZE, offset // CHUNK_SIZE - 1
    return min(offset // CHUNK_SIZE, last), min((offset + length - 1) // CHUNK_SIZE, last)


def sealer_for_master(keyring: Keyring) -> ChunkCipher:
    """A cipher under a fresh data key wrapped by the active master key."""
    data_key = secret_bytes.token_bytes(KEY_SIZE)
    master = keyring.active
    header = _wrap(WRAP_MASTER, master.key_id, keyring.active_aead(), data_key)
    return ChunkCipher(data_key, header.pack())


def sealer_for_customer(customer_key: bytes) -> ChunkCipher:
    """A cipher under a fresh data key wrapped by an SSE-C key (which kumoi never stores)."""
    data_key = secret_bytes.token_bytes(KEY_SIZE)
    return ChunkCipher(data_key, _wrap(WRAP_CUSTOMER, _NO_KEY_ID, _aead(customer_key), data_key).pack())


def opener(header_bytes: bytes, keyring: Keyring, customer_key: bytes | None = None) -> ChunkCipher:
    """The cipher of sealed data from its header; SSE-C data needs ``customer_key``."""
    header = Header.unpack(header_bytes)
    if header.wrap == WRAP_CUSTOMER:
        if customer_key is None:
            raise DecryptionError("sealed with a customer key")
        data_key = _unwrap(header, customer_key)
    else:
        data_key = _unwrap(header, keyring.get(header.key_id).key)
    return ChunkCipher(data_key, header_bytes[:HEADER_SIZE])


def open_all(sealed: bytes, keyring: Keyring, customer_key: bytes | None = None) -> bytes:
    """Inverse of :meth:`ChunkCipher.seal_all`."""
    header = bytes(sealed[:HEADER_SIZE])
    cipher = None if customer_key is not None else keyring.opened.get(header)
    if cipher is None:
        cipher = opener(header, keyring, customer_key)
        if customer_key is None:
            if len(keyring.opened) >= OPENED_CACHE_SIZE:
                keyring.opened.clear()
            keyring.opened[header] = cipher
    body = memoryview(sealed)[HEADER_SIZE:]
    count = -(-len(body) // SEALED_CHUNK) or 1
    if count == 1:
        return cipher.open(0, body, True)
    return b"".join(
        cipher.open(index, body[index * SEALED_CHUNK : (index + 1) * SEALED_CHUNK], index == count - 1)
        for index in range(count)
    )


def rewrap_header(header_bytes: bytes, keyring: Keyring) -> bytes | None:
    """The header rewrapped under the active master key; ``None`` if it already is, or if it
    belongs to a customer key (SSE-C data is never under a master key)."""
    header = Header.unpack(header_bytes)
    if header.wrap != WRAP_MASTER or header.key_id == keyring.active.key_id:
        return None
    data_key = _unwrap(header, keyring.get(header.key_id).key)
    master = keyring.active
    return _wrap(WRAP_MASTER, master.key_id, keyring.active_aead(), data_key).pack()


def key_check(customer_key: bytes, salt: bytes | None = None) -> str:
    """``salt:hmac`` (hex) to recognise an SSE-C key later without storing it."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    return f"{salt.hex()}:{hmac.new(salt, customer_key, hashlib.sha256).hexdigest()}"


def key_matches(customer_key: bytes, check: str) -> bool:
    salt_hex, _, _digest = check.partition(":")
    return hmac.compare_digest(key_check(customer_key, bytes.fromhex(salt_hex)), check)
