"""Bucket and object owners: every account has a stable canonical user id and display name."""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=4096)
def canonical_id(account_id: str) -> str:
    """A 64-hex-digit canonical user id, stable for the account (AWS's ids have this form)."""
    return hashlib.sha256(f"kumoi-canonical-user:{account_id}".encode()).hexdigest()


def owner_of(account_id: str) -> dict[str, str]:
    return {"ID": canonical_id(account_id), "DisplayName": f"account-{account_id}"}
