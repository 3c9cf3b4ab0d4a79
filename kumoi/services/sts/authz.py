"""STS's authorization map, for the authorizer (``--enforce-iam``).

``GetCallerIdentity`` needs no permission (AWS: even an explicit deny cannot stop it).
``AssumeRole`` is ``sts:AssumeRole`` on the role, whose trust policy plays the part of the
resource policy: a trust policy naming the caller allows by itself, one naming the account needs
the caller's identity policies to allow too, as AWS evaluates it. The web-identity and SAML
variants are unsigned and never reach the authorizer (the provider checks the trust policy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.services.sts.identities import IdentityDirectory
from kumoi.services.sts.sessions import tag_context

_FREE = frozenset({"GetCallerIdentity"})
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def targets(ctx: RequestContext, params: Mapping[str, Any]) -> list[Target]:
    operation = ctx.operation
    if operation in _FREE:
        return []
    if operation == "AssumeRole":
        arn = str(params.get("RoleArn", ""))
        match = _ROLE_ARN.match(arn)
        context: dict[str, list[str]] = tag_context(params.get("Tags") or [])
        if params.get("ExternalId") is not None:
            context["sts:externalid"] = [str(params["ExternalId"])]
        if params.get("RoleSessionName") is not None:
            context["sts:rolesessionname"] = [str(params["RoleSessionName"])]
        if params.get("SourceIdentity") is not None:
            context["sts:sourceidentity"] = [str(params["SourceIdentity"])]
        locator = (match.group(1), match.group(2)) if match else None
        return [Target("sts:AssumeRole", arn, context, locator, match.group(1) if match else "")]
    if operation == "GetFederationToken":
        resource = f"arn:aws:sts::{ctx.account_id}:federated-user/{params.get('Name', '')}"
        return [Target("sts:GetFederationToken", resource, tag_context(params.get("Tags") or []))]
    return [Target(f"sts:{operation}", "*")]


class StsAuthz:
    """Reads role trust policies for the authorizer."""

    def __init__(self, directory: IdentityDirectory) -> None:
        self._directory = directory

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        return targets(ctx, params)

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        account, name = target.locator
        role = self._directory.get(account, "role", name)
        if role is None or role["Arn"] != target.resource:
            return ResourceFacts(owner=account)
        tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])}
        return ResourceFacts(role["AssumeRolePolicyDocument"], account, tags, trust=True)
