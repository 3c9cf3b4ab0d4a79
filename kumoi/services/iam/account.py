"""Account-wide IAM: the account alias, GetAccountSummary (counted from the directory), and the
context keys policies use (GetContextKeysForCustomPolicy / GetContextKeysForPrincipalPolicy).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from kumoi.auth.policy import PolicySyntaxError, parse_policy
from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase
from kumoi.services.iam.dependents import MFA_DEVICE
from kumoi.services.iam.directory import GROUP, OIDC, POLICY, PROFILE, ROLE, SAML, USER, Doc
from kumoi.services.iam.keys import KEYS_PER_USER
from kumoi.services.iam.names import validation_error
from kumoi.services.iam.policies import ATTACHED_MAX, INLINE_QUOTAS, POLICY_SIZE_MAX, VERSIONS_MAX
from kumoi.services.iam.roles import TRUST_POLICY_MAX
from kumoi.services.iam.servercerts import SERVER_CERT, SERVER_CERTS_MAX
from kumoi.services.iam.userkeys import SIGNING_CERTS_PER_USER

ALIAS = "alias"
#: Aliases per account.
ALIASES_MAX = 1
_ALIAS = re.compile(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
_VARIABLE = re.compile(r"\$\{([^}]+)\}")

#: The fixed quotas GetAccountSummary reports (IAM's defaults).
_QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": SERVER_CERTS_MAX,
    "UserPolicySizeQuota": INLINE_QUOTAS[USER][1],
    "GroupPolicySizeQuota": INLINE_QUOTAS[GROUP][1],
    "RolePolicySizeQuota": INLINE_QUOTAS[ROLE][1],
    "PolicySizeQuota": POLICY_SIZE_MAX,
    "AssumeRolePolicySizeQuota": TRUST_POLICY_MAX,
    "GroupsPerUserQuota": 10,
    "SigningCertificatesPerUserQuota": SIGNING_CERTS_PER_USER,
    "AccessKeysPerUserQuota": KEYS_PER_USER,
    "AttachedPoliciesPerUserQuota": ATTACHED_MAX,
    "AttachedPoliciesPerGroupQuota": ATTACHED_MAX,
    "AttachedPoliciesPerRoleQuota": ATTACHED_MAX,
    "VersionsPerPolicyQuota": VERSIONS_MAX,
    "PolicyVersionsInUseQuota": 10000,
    "GlobalEndpointTokenVersion": 1,
}


class AccountOperations(IamBase):
    # --- alias ------------------------------------------------------------------------------------

    async def create_account_alias(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        alias = request["AccountAlias"]
        if not _ALIAS.match(alias):
            raise validation_error(
                alias,
                "accountAlias",
                r"Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
            )
        async with self.directory.lock:
            current = self.directory.all(account, ALIAS)
            if alias in current:
                return {}
            # Aliases are unique across every account, as sign-in URLs are.
            if any(alias in self.directory.all(other, ALIAS) for other in self.directory.accounts()):
                raise api.EntityAlreadyExistsException(f"The account alias {alias} already exists.")
            if len(current) >= ALIASES_MAX:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for AccountAliasesPerAccount: {ALIASES_MAX}"
                )
            await self.directory.put(account, ALIAS, alias, {"AccountAlias": alias})
        return {}

    async def delete_account_alias(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        alias = request["AccountAlias"]
        async with self.directory.lock:
            if alias not in self.directory.all(account, ALIAS):
                raise api.NoSuchEntityException(f"The account alias {alias} cannot be found.")
            await self.directory.delete(account, ALIAS, alias)
        return {}

    async def list_account_aliases(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"AccountAliases": sorted(self.directory.all(account, ALIAS)), "IsTruncated": False}

    # --- summary ----------------------------------------------------------------------------------

    async def get_account_summary(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)

        def count(kind: str) -> int:
            return len(self.directory.all(account, kind))

        devices = self.directory.all(account, MFA_DEVICE).values()
        policies = self.directory.all(account, POLICY).values()
        summary = {
            **_QUOTAS,
            "Users": count(USER),
            "Groups": count(GROUP),
            "Roles": count(ROLE),
            "Policies": count(POLICY),
            "InstanceProfiles": count(PROFILE),
            "ServerCertificates": count(SERVER_CERT),
            "Providers": count(OIDC) + count(SAML),
            "MFADevices": len(devices),
            "MFADevicesInUse": sum(1 for doc in devices if doc.get("UserId") is not None),
            "PolicyVersionsInUse": sum(len(doc["Versions"]) for doc in policies),
            # The root user of a kumoi account has no MFA device, password or signing certificate
            # of its own, and its keys are not IAM access keys.
            "AccountMFAEnabled": 0,
            "AccountAccessKeysPresent": 0,
            "AccountPasswordPresent": 0,
            "AccountSigningCertificatesPresent": 0,
        }
        return {"SummaryMap": summary}

    # --- context keys -----------------------------------------------------------------------------

    async def get_context_keys_for_custom_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        await self.account(ctx)
        return {"ContextKeyNames": context_keys(request["PolicyInputList"])}

    async def get_context_keys_for_principal_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        texts = [
            *self._principal_documents(account, request["PolicySourceArn"]),
            *(request.get("PolicyInputList") or []),
        ]
        return {"ContextKeyNames": context_keys(texts)}

    def _principal_documents(self, account: str, arn: str) -> list[str]:
        """The identity policy documents of the user (with its groups'), group or role ``arn``."""
        kinds = {"user": USER, "group": GROUP, "role": ROLE}
        word = arn.split(":", 5)[-1].split("/", 1)[0] if arn.count(":") >= 5 else ""
        kind = kinds.get(word)
        if kind is None or not arn.startswith(f"arn:aws:iam::{account}:"):
            raise api.InvalidInputException(f"ARN {arn} is not valid.")
        name = arn.rsplit("/", 1)[-1]
        doc = self.directory.get(account, kind, name)
        if doc is None or doc["Arn"] != arn:
            raise api.NoSuchEntityException(f"The {word} with name {name} cannot be found.")
        holders = [doc]
        if kind == USER:
            holders += [
                group
                for group_name in doc["Groups"]
                if (group := self.directory.get(account, GROUP, group_name))
            ]
        texts: list[str] = []
        for holder in holders:
            texts += list(holder["InlinePolicies"].values())
            for policy_arn in holder["AttachedPolicies"]:
                policy = self.managed_policy(account, policy_arn)
                texts.append(policy["Versions"][policy["DefaultVersionId"]]["Document"])
        return texts


def context_keys(texts: Sequence[str]) -> list[str]:
    """Every condition key, and every policy variable, the documents use (each once, first
    spelling kept), sorted."""
    found: dict[str, str] = {}
    for text in texts:
        try:
            parse_policy(text)
        except PolicySyntaxError as exc:
            raise api.InvalidInputException(exc.message) from None
        for key in _document_keys(json.loads(text)):
            found.setdefault(key.lower(), key)
    return [found[key] for key in sorted(found)]


def _document_keys(document: Doc) -> Iterable[str]:
    raw = document["Statement"]
    statements: list[Doc] = raw if isinstance(raw, list) else [raw]
    for statement in statements:
        for operator_keys in (statement.get("Condition") or {}).values():
            for key, values in operator_keys.items():
                yield key
                yield from _variables(values)
        for member in ("Resource", "NotResource"):
            yield from _variables(statement.get(member))


def _variables(value: object) -> Iterable[str]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            for inner in _VARIABLE.findall(item):
                yield inner.split(",", 1)[0].strip()
