"""Identifiers that must be unique but need not be secret: request ids, message ids.

``uuid.uuid4()`` and ``secrets`` read the OS random source with a system call each time, which
showed as a third of SendMessageBatch's CPU. Python's Mersenne Twister (seeded from the OS at start)
gives 128 bits per id at a fraction of the cost; collisions are as unlikely as with uuid4. Anything
that must not be guessable (receipt tokens, keys, session tokens) comes from the OS's CSPRNG:
``secrets``, or :mod:`kumoi.core.secret_bytes` on hot paths.
"""

from __future__ import annotations

import random

#: The version (4) and variant (RFC 4122) bits of a random UUID, and the mask that clears them.
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)
_UUID4_MASK = ~((0xF000 << 64) | (0xC000 << 48))


def unique_uuid() -> str:
    """A random (version 4) UUID string, like ``str(uuid.uuid4())`` (formatted here directly:
    building a ``uuid.UUID`` cost more than the random bits)."""
    h = "%032x" % (random.getrandbits(128) & _UUID4_MASK | _UUID4_BITS)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def unique_hex(bits: int = 64) -> str:
    """``bits`` random bits as upper-case hex (S3 request ids use 64)."""
    return f"{random.getrandbits(bits):0{bits // 4}X}"
