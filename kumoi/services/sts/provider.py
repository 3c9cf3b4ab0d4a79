"""The STS provider. Identity questions are answered from the authenticated caller."""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext


class StsProvider:
    async def get_caller_identity(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.caller
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}
