"""S3 Control's authorization map: the IAM action of each operation (account-level, no resource).

From the Service Authorization Reference: ``PutPublicAccessBlock`` and ``DeletePublicAccessBlock``
are ``s3:PutAccountPublicAccessBlock``, ``GetPublicAccessBlock`` is
``s3:GetAccountPublicAccessBlock``, on ``*``. Other operations are named ``s3:<Operation>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext

_ACTIONS = {
    "PutPublicAccessBlock": "s3:PutAccountPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutAccountPublicAccessBlock",
    "GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
}


class S3ControlAuthz:
    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        action = _ACTIONS.get(ctx.operation, f"s3:{ctx.operation}")
        return [Target(action, "*", {}, None, str(params.get("AccountId") or ctx.account_id))]

    async def resource(self, target: Target) -> ResourceFacts:
        return ResourceFacts(owner=target.resource_account)
