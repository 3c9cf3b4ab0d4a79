"""The S3 Control provider: Put/Get/DeletePublicAccessBlock, the account's Block Public Access.

The settings apply to every bucket of the account, combined with each bucket's own (a flag is on
where either has it on; see ``services/s3/public_access.py``). They are kept in the metadata
store's account settings (:mod:`kumoi.storage.account_settings`), which S3 reads, under the name
S3 reads them by. A caller manages its own account's settings only: the ``x-amz-account-id``
header must name the caller's account, as AWS requires. Every other S3 Control operation answers
501 ``NotImplemented``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.storage.account_settings import for_store
from kumoi.storage.meta.contract import MetadataStore

#: The four settings, and the name S3 reads them by (``services/s3/public_access.py``).
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
SETTING = "PublicAccessBlock"


def _not_found() -> ServiceError:
    return ServiceError(
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
        status=404,
    )


def _own_account(ctx: RequestContext, request: dict[str, Any]) -> str:
    account = str(request.get("AccountId", ""))
    if account != ctx.account_id:
        raise ServiceError("AccessDenied", "Access Denied", status=403)
    return account


class S3ControlProvider:
    def __init__(self, meta: MetadataStore, changed: Callable[[], None] | None = None) -> None:
        """``changed`` is called after the settings change (S3 drops what it cached of them)."""
        self._meta = meta
        self._changed = changed

    async def put_public_access_block(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = _own_account(ctx, request)
        given = request.get("PublicAccessBlockConfiguration") or {}
        settings = {flag: bool(given.get(flag, False)) for flag in FLAGS}
        await for_store(self._meta).put(account, SETTING, settings)
        self._notify()
        return {}

    async def get_public_access_block(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = _own_account(ctx, request)
        stored = await for_store(self._meta).get(account, SETTING)
        if stored is None:
            raise _not_found()
        return {"PublicAccessBlockConfiguration": {flag: bool(stored.get(flag, False)) for flag in FLAGS}}

    async def delete_public_access_block(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = _own_account(ctx, request)
        await for_store(self._meta).delete(account, SETTING)
        self._notify()
        return {}

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed()
