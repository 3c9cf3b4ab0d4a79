"""Identifiers that must be unique but need not be secret: request ids, message ids.

``uuid.uuid4()`` and ``secrets`` read the OS random source with a system call each time, which
showed as a third of SendMessageBatch's CPU. Python's Mersenne Twister (seeded from the OS at start)
gives 128 bits per id at a fraction of the cost; collisions are as unlikely as with uuid4. Anything
that must not be guessable (receipt tokens, keys, session tokens) keeps using ``secrets``.
"""

from __future__ import annotations

import random
import uuid


def unique_uuid() -> str:
    """A random (version 4) UUID string, like ``str(uuid.uuid4())``."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def unique_hex(bits: int = 64) -> str:
    """``bits`` random bits as upper-case hex (S3 request ids use 64)."""
    return f"{random.getrandbits(bits):0{bits // 4}X}"
