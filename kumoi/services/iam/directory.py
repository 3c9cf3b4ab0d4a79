"""The IAM directory: every account's identities in memory, written through to the store.

IAM state is small and read on every authorized request, so it lives in memory (loaded once at
start-up from :class:`~kumoi.storage.meta.contract_iam.IamRepository`) and every change is written
to the store before it becomes visible. Mutations run under one lock (IAM writes are rare), so a
read-modify-write of an entity never interleaves with another.

Documents are plain dicts in the shape IAM's API returns them (``UserName``, ``Arn``, ...) plus
kumoi's own members (``AttachedPolicies``, ``InlinePolicies``, ``Groups``...). ``generation`` grows on
every change; the authorizer keys its compiled-policy cache on it.

Access keys and STS sessions are mirrored into the credential table the SigV4 verifier reads, so a
key signs requests as soon as it is created and stops as soon as it is deleted or deactivated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from kumoi.auth.credentials import Credential, StaticCredentials
from kumoi.core.clock import Clock
from kumoi.storage.meta.contract_iam import IamDocument, IamKey, IamRepository

log = logging.getLogger("kumoi.iam")

USER = "user"
GROUP = "group"
ROLE = "role"
POLICY = "policy"
ACCESS_KEY = "accesskey"
PROFILE = "instanceprofile"
OIDC = "oidc"
SAML = "saml"
SESSION = "session"

Doc = dict[str, Any]


class IamDirectory:
    def __init__(self, repo: IamRepository, credentials: StaticCredentials, clock: Clock) -> None:
        self._repo = repo
        self._credentials = credentials
        self._clock = clock
        self._docs: dict[tuple[str, str], dict[str, Doc]] = {}
        self._loaded = asyncio.Event()
        self.lock = asyncio.Lock()
        self.generation = 0
        #: Access key id → (service, region, time) of its last use (kept in memory only).
        self.last_used: dict[str, tuple[str, str, float]] = {}

    async def load(self) -> None:
        """Read every stored document; register access keys and live sessions as credentials."""
        documents = await self._repo.load(self._clock.now())
        for document in documents:
            self._docs.setdefault((document.account_id, document.kind), {})[document.name] = document.doc
        for document in documents:
            if document.kind in (ACCESS_KEY, SESSION):
                self._install(document.account_id, document.kind, document.name, document.doc)
        self._loaded.set()
        log.info("IAM directory loaded: %d documents", len(documents))

    async def ready(self) -> None:
        await self._loaded.wait()

    # --- reads --------------------------------------------------------------------------------

    def get(self, account_id: str, kind: str, name: str) -> Doc | None:
        return self._docs.get((account_id, kind), {}).get(name)

    def all(self, account_id: str, kind: str) -> dict[str, Doc]:
        return self._docs.get((account_id, kind), {})

    def sorted(self, account_id: str, kind: str) -> list[Doc]:
        table = self.all(account_id, kind)
        return [table[name] for name in sorted(table)]

    def session(self, access_key_id: str) -> Doc | None:
        for (_account, kind), table in self._docs.items():
            if kind == SESSION and access_key_id in table:
                return table[access_key_id]
        return None

    def access_key(self, access_key_id: str) -> tuple[str, Doc] | None:
        for (account, kind), table in self._docs.items():
            if kind == ACCESS_KEY and access_key_id in table:
                return account, table[access_key_id]
        return None

    def accounts(self) -> Iterator[str]:
        return iter({account for account, _kind in self._docs})

    # --- writes -------------------------------------------------------------------------------

    async def put(
        self, account_id: str, kind: str, name: str, doc: Doc, expires: float | None = None
    ) -> None:
        await self.apply([IamDocument(account_id, kind, name, doc, expires)])

    async def delete(self, account_id: str, kind: str, name: str) -> None:
        await self.apply([], [(account_id, kind, name)])

    async def apply(self, puts: Sequence[IamDocument], deletes: Sequence[IamKey] = ()) -> None:
        """Store, then make visible: a failed write changes nothing in memory."""
        await self._repo.apply(puts, deletes)
        for account_id, kind, name in deletes:
            removed = self._docs.get((account_id, kind), {}).pop(name, None)
            if removed is not None and kind in (ACCESS_KEY, SESSION):
                self._credentials.remove(name)
        for document in puts:
            self._install(document.account_id, document.kind, document.name, document.doc)
        self.generation += 1

    async def purge_expired(self) -> None:
        now = self._clock.now()
        await self._repo.purge_expired(now)
        for (_account, kind), table in self._docs.items():
            if kind != SESSION:
                continue
            for name in [name for name, doc in table.items() if doc["ExpiresAt"] <= now]:
                del table[name]
        self._credentials.purge_expired(now)

    def _install(self, account_id: str, kind: str, name: str, doc: Doc) -> None:
        self._docs.setdefault((account_id, kind), {})[name] = doc
        if kind == ACCESS_KEY:
            self._register_key(account_id, doc)
        elif kind == SESSION:
            self._credentials.add(
                Credential(
                    access_key_id=doc["AccessKeyId"],
                    secret_access_key=doc["SecretAccessKey"],
                    account_id=account_id,
                    arn=doc["Arn"],
                    user_id=doc["UserId"],
                    session_token=doc["SessionToken"],
                    expires_at=doc["ExpiresAt"],
                    is_root=doc["Kind"] == "root",
                )
            )

    def _register_key(self, account_id: str, doc: Doc) -> None:
        key_id = doc["AccessKeyId"]
        user = self.get(account_id, USER, doc["UserName"])
        if doc["Status"] != "Active" or user is None:
            self._credentials.remove(key_id)
            return
        self._credentials.add(
            Credential(
                access_key_id=key_id,
                secret_access_key=doc["SecretAccessKey"],
                account_id=account_id,
                arn=user["Arn"],
                user_id=user["UserId"],
                is_root=False,
            )
        )
