"""What STS needs from the IAM directory, as a protocol (services do not import each other; the
runtime hands STS the IAM directory, which satisfies it)."""

from __future__ import annotations

from typing import Any, Protocol

Doc = dict[str, Any]


class IdentityDirectory(Protocol):
    async def ready(self) -> None: ...

    def get(self, account_id: str, kind: str, name: str) -> Doc | None:
        """An IAM document (kinds ``user``, ``role``, ``oidc``, ``saml``, ``policy`` ...)."""
        ...

    def all(self, account_id: str, kind: str) -> dict[str, Doc]: ...

    def session(self, access_key_id: str) -> Doc | None: ...

    def access_key(self, access_key_id: str) -> tuple[str, Doc] | None: ...

    async def put(
        self, account_id: str, kind: str, name: str, doc: Doc, expires: float | None = None
    ) -> None: ...
