"""Time-based one-time passwords (RFC 6238, HOTP of RFC 4226 over 30-second steps) for virtual
MFA devices: the seeds IAM hands out and the codes EnableMFADevice and ResyncMFADevice check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

STEP_SECONDS = 30
DIGITS = 6
#: Seed size: 40 random bytes, 64 base32 characters, as IAM's Base32StringSeed.
SEED_BYTES = 40


def new_seed() -> str:
    return base64.b32encode(secrets.token_bytes(SEED_BYTES)).decode("ascii")


def seed_key(seed: str) -> bytes:
    return base64.b32decode(seed + "=" * (-len(seed) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 section 5.3: HMAC-SHA-1, dynamic truncation, ``digits`` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def step_at(now: float) -> int:
    return int(now // STEP_SECONDS)


def totp(key: bytes, now: float, digits: int = DIGITS) -> str:
    return hotp(key, step_at(now), digits)


def find_consecutive(key: bytes, first: str, second: str, now: float, window: int) -> int | None:
    """The step of ``second`` if ``first`` and ``second`` are the codes of two consecutive steps
    within ``window`` steps of ``now``; ``None`` otherwise."""
    current = step_at(now)
    for step in range(max(0, current - window), current + window + 1):
        if hmac.compare_digest(hotp(key, step), first) and hmac.compare_digest(hotp(key, step + 1), second):
            return step + 1
    return None
