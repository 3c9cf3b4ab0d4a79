"""Account-level settings of one metadata store, held in memory and written through.

S3's account-level Block Public Access (S3 Control's PutPublicAccessBlock) is written by one
service (``s3control``) and read by another on every public-access decision (``s3``); services
never import each other, so both reach the settings here, through the store they share: one
:class:`AccountSettings` per metadata store (:func:`for_store`). The settings are few (one small
document per account and setting), so they are read once, on first use, and kept in memory.

They are stored as IAM documents (``kind`` :data:`KIND_PREFIX` + the setting's name, ``name``
empty), a table that is already keyed by account; the IAM service ignores kinds it does not know.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from kumoi.storage.meta.contract import MetadataStore
from kumoi.storage.meta.contract_iam import IamDocument

KIND_PREFIX = "account-setting:"


class AccountSettings:
    def __init__(self, meta: MetadataStore) -> None:
        self._meta = meta
        self._values: dict[tuple[str, str], dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def _loaded(self) -> dict[tuple[str, str], dict[str, Any]]:
        if self._values is None:
            async with self._lock:
                if self._values is None:
                    values: dict[tuple[str, str], dict[str, Any]] = {}
                    for document in await self._meta.iam.load(0.0):
                        if document.kind.startswith(KIND_PREFIX):
                            setting = document.kind[len(KIND_PREFIX) :]
                            values[(document.account_id, setting)] = document.doc
                    self._values = values
        return self._values

    async def get(self, account_id: str, setting: str) -> dict[str, Any] | None:
        return (await self._loaded()).get((account_id, setting))

    async def put(self, account_id: str, setting: str, value: dict[str, Any]) -> None:
        values = await self._loaded()
        await self._meta.iam.apply([IamDocument(account_id, KIND_PREFIX + setting, "", dict(value))])
        values[(account_id, setting)] = dict(value)

    async def delete(self, account_id: str, setting: str) -> None:
        values = await self._loaded()
        await self._meta.iam.apply([], [(account_id, KIND_PREFIX + setting, "")])
        values.pop((account_id, setting), None)


_BY_STORE: weakref.WeakKeyDictionary[MetadataStore, AccountSettings] = weakref.WeakKeyDictionary()


def for_store(meta: MetadataStore) -> AccountSettings:
    """The one :class:`AccountSettings` of ``meta`` (shared by every service using the store)."""
    found = _BY_STORE.get(meta)
    if found is None:
        found = _BY_STORE[meta] = AccountSettings(meta)
    return found
