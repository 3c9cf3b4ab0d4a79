"""Access keys and who they belong to.

The verifier asks a :class:`CredentialProvider` for the secret of the access key id a request
names. :class:`StaticCredentials` is the in-memory provider used at start-up (the root key pair
``test``/``test`` of account ``000000000000`` unless told otherwise); IAM and STS plug in their own
providers (users' access keys, temporary session credentials) behind the same protocol.

IAM access keys (``AKIA…``) and STS temporary credentials (``ASIA…`` plus a session token) are
added to the running table when they are created and removed when they are deleted, deactivated
or revoked, so a key signs requests from the moment ``CreateAccessKey`` answers.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_ACCESS_KEY_ID = "test"
DEFAULT_SECRET_ACCESS_KEY = "test"

#: Access key id prefixes AWS uses: long-term IAM user keys, and temporary (STS) keys.
LONG_TERM_PREFIX = "AKIA"
TEMPORARY_PREFIX = "ASIA"
#: AWS access key ids are 20 characters; secrets 40.
ACCESS_KEY_ID_LENGTH = 20
SECRET_LENGTH = 40
#: Random bytes in a session token (it is opaque to clients; AWS's are several hundred characters).
SESSION_TOKEN_BYTES = 96
_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True, slots=True)
class Credential:
    """An access key pair and the principal it authenticates.

    ``session_token``/``expires_at`` are set for temporary (STS) credentials: a request must then
    carry the same token, and is refused once ``expires_at`` (epoch seconds) has passed.
    """

    access_key_id: str
    secret_access_key: str
    account_id: str
    arn: str
    user_id: str
    session_token: str | None = None
    expires_at: float | None = None
    is_root: bool = True


class CredentialProvider(Protocol):
    def lookup(self, access_key_id: str) -> Credential | None:
        """The credential with this access key id, or ``None`` if there is none."""
        ...


def root_credential(access_key_id: str, secret: str, account_id: str) -> Credential:
    """The root user of ``account_id``, as AWS names it (``arn:aws:iam::<account>:root``)."""
    return Credential(
        access_key_id=access_key_id,
        secret_access_key=secret,
        account_id=account_id,
        arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
    )


class StaticCredentials:
    """An in-memory credential table; empty input means the default root key pair test/test."""

    __slots__ = ("_by_key",)

    def __init__(self, credentials: Iterable[Credential] = ()) -> None:
        self._by_key: dict[str, Credential] = {}
        for credential in credentials:
            self.add(credential)
        if not self._by_key:
            self.add(root_credential(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, DEFAULT_ACCOUNT_ID))

    def add(self, credential: Credential) -> None:
        self._by_key[credential.access_key_id] = credential

    def remove(self, access_key_id: str) -> None:
        """Stop accepting this key (deleted, deactivated, or a revoked session)."""
        self._by_key.pop(access_key_id, None)

    def purge_expired(self, now: float) -> int:
        """Forget temporary credentials that expired before ``now``; return how many."""
        expired = [
            key
            for key, credential in self._by_key.items()
            if credential.expires_at is not None and credential.expires_at <= now
        ]
        for key in expired:
            del self._by_key[key]
        return len(expired)

    def lookup(self, access_key_id: str) -> Credential | None:
        return self._by_key.get(access_key_id)


def new_access_key_id(prefix: str = LONG_TERM_PREFIX) -> str:
    """A fresh access key id in AWS's form: the prefix, then upper-case base32 characters."""
    tail = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(ACCESS_KEY_ID_LENGTH - len(prefix)))
    return prefix + tail


def new_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def new_session_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)
