"""Console passwords: salted scrypt hashes (the password itself is never stored) and the account
password policy's rules.

Hashing costs tens of milliseconds of CPU on purpose, so callers run it in a worker thread.
Without a custom policy, IAM applies its default: at least 8 characters and at least three of
upper-case letters, lower-case letters, digits and symbols.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

#: scrypt cost parameters (RFC 7914): 16 MiB of memory per hash.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"

#: The characters IAM counts as symbols (``RequireSymbols``).
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
DEFAULT_MINIMUM_LENGTH = 8
DEFAULT_CLASSES_REQUIRED = 3

_CHECKS = (
    ("RequireUppercaseCharacters", "uppercase", str.isupper),
    ("RequireLowercaseCharacters", "lowercase", str.islower),
    ("RequireNumbers", "numbers", str.isdigit),
    ("RequireSymbols", "symbols", SYMBOLS.__contains__),
)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n, dklen=_KEY_BYTES
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 parts) for ``password`` with a fresh salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _derive(password, salt, _N, _R, _P)
    encoded = [base64.b64encode(part).decode("ascii") for part in (salt, digest)]
    return "$".join((_SCHEME, str(_N), str(_R), str(_P), *encoded))


def verify_password(password: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != _SCHEME:
        return False
    actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(actual, base64.b64decode(digest))


def matches_any(password: str, hashes: Sequence[str]) -> bool:
    return any(verify_password(password, stored) for stored in hashes)


def policy_violations(password: str, policy: Mapping[str, Any] | None) -> list[str]:
    """What ``password`` lacks under ``policy`` (IAM's default policy when ``None``); empty if it
    conforms."""
    if policy is None:
        problems = []
        if len(password) < DEFAULT_MINIMUM_LENGTH:
            problems.append(f"at least {DEFAULT_MINIMUM_LENGTH} characters")
        classes = sum(1 for _member, _word, test in _CHECKS if any(test(char) for char in password))
        if classes < DEFAULT_CLASSES_REQUIRED:
            problems.append(
                f"at least {DEFAULT_CLASSES_REQUIRED} of uppercase, lowercase, numbers and symbols"
            )
        return problems
    problems = []
    minimum = int(policy.get("MinimumPasswordLength") or 6)
    if len(password) < minimum:
        problems.append(f"at least {minimum} characters")
    for member, word, test in _CHECKS:
        if policy.get(member) and not any(test(char) for char in password):
            problems.append(f"at least one of {word}")
    return problems
