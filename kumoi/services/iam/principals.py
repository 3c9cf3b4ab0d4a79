"""From a caller (or an IAM entity) to the policies that apply to it, compiled and cached.

A caller is the root user, an IAM user (long-term key or GetSessionToken session), a role session
(AssumeRole*), a federated user (GetFederationToken), or anonymous. For each, :class:`Resolver`
gathers the identity policies (the user's and its groups', or the role's: attached managed and
inline), the permissions boundary, the session policies, and the principal's condition keys
(``aws:username``, ``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalTag/*`` ...).

Results are cached per access key and thrown away whenever the directory changes (its
``generation``), so the per-request cost is one dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kumoi.auth.policy import Policy, Principal, compile_policy
from kumoi.core.context import Caller
from kumoi.services.iam.directory import GROUP, ROLE, USER, Doc, IamDirectory
from kumoi.services.iam.managed import AWS_MANAGED

#: Cached principals (callers) per directory generation.
CACHE_MAX = 10000

Context = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    principal: Principal
    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session: tuple[Policy, ...] | None = None
    context: Context = field(default_factory=dict)


ANONYMOUS = PrincipalPolicies(Principal("", "", "anonymous"))


class Resolver:
    def __init__(self, directory: IamDirectory) -> None:
        self._directory = directory
        self._generation = -1
        self._cache: dict[str, PrincipalPolicies] = {}

    def for_caller(self, caller: Caller) -> PrincipalPolicies:
        if self._generation != self._directory.generation:
            self._cache.clear()
            self._generation = self._directory.generation
        key = caller.access_key_id
        cached = self._cache.get(key)
        if cached is not None and cached.principal.arn == caller.arn:
            return cached
        resolved = self._resolve(caller)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[key] = resolved
        return resolved

    def _resolve(self, caller: Caller) -> PrincipalPolicies:
        if not caller.account_id:
            return ANONYMOUS
        account = caller.account_id
        if caller.is_root:
            return root_policies(account)
        session = self._directory.session(caller.access_key_id) if caller.session_token else None
        if session is not None:
            return self._for_session(account, session)
        found = self._directory.access_key(caller.access_key_id)
        if found is not None:
            user = self._directory.get(account, USER, found[1]["UserName"])
            if user is not None:
                return self.for_user(account, user)
        return PrincipalPolicies(Principal(caller.arn, account, "user", frozenset({caller.arn})))

    # --- per kind of principal --------------------------------------------------------------------

    def for_user(self, account: str, user: Doc, extra: Context | None = None) -> PrincipalPolicies:
        policies = list(self.holder_policies(account, USER, user))
        for group_name in user["Groups"]:
            group = self._directory.get(account, GROUP, group_name)
            if group is not None:
                policies += self.holder_policies(account, GROUP, group)
        context: Context = {
            "aws:username": [user["UserName"]],
            "aws:userid": [user["UserId"]],
            "aws:principalarn": [user["Arn"]],
            "aws:principalaccount": [account],
            "aws:principaltype": ["User"],
        }
        add_tags(context, "aws:principaltag/", user.get("Tags", []))
        context.update(extra or {})
        principal = Principal(user["Arn"], account, "user", frozenset({user["Arn"]}))
        return PrincipalPolicies(principal, tuple(policies), self._boundary(account, user), None, context)

    def for_role(self, account: str, role: Doc) -> PrincipalPolicies:
        context: Context = {
            "aws:userid": [role["RoleId"]],
            "aws:principalarn": [role["Arn"]],
            "aws:principalaccount": [account],
            "aws:principaltype": ["AssumedRole"],
        }
        add_tags(context, "aws:principaltag/", role.get("Tags", []))
        principal = Principal(role["Arn"], account, "role", frozenset({role["Arn"]}))
        return PrincipalPolicies(
            principal,
            tuple(self.holder_policies(account, ROLE, role)),
            self._boundary(account, role),
            None,
            context,
        )

    def _for_session(self, account: str, session: Doc) -> PrincipalPolicies:
        kind = session["Kind"]
        base: PrincipalPolicies
        extra: Context = {
            "aws:multifactorauthpresent": ["false"],
            "aws:tokenissuetime": [session["IssuedAt"]],
        }
        if session.get("SourceIdentity"):
            extra["aws:sourceidentity"] = [session["SourceIdentity"]]
        if session.get("FederatedProvider"):
            extra["aws:federatedprovider"] = [session["FederatedProvider"]]
        if kind == "role":
            role = self._directory.get(account, ROLE, session["RoleName"])
            if role is None or role["RoleId"] != session["RoleId"]:
                principal = Principal(session["Arn"], account, "role", frozenset({session["Arn"]}))
                return PrincipalPolicies(principal, (), None, (), extra)
            base = self.for_role(account, role)
            context = {**base.context, **extra, "aws:userid": [session["UserId"]]}
            add_tags(context, "aws:principaltag/", session.get("Tags", []))
            names = frozenset({session["Arn"], role["Arn"]})
            principal = Principal(session["Arn"], account, "role", names)
            return PrincipalPolicies(
                principal, base.identity, base.boundary, self._session_policies(account, session), context
            )
        user = self._directory.get(account, USER, session["UserName"])
        if user is None:
            principal = Principal(session["Arn"], account, "user", frozenset({session["Arn"]}))
            return PrincipalPolicies(principal, (), None, (), extra)
        base = self.for_user(account, user, extra)
        if kind == "federated":
            context = {
                **base.context,
                "aws:principaltype": ["FederatedUser"],
                "aws:userid": [session["UserId"]],
            }
            context.pop("aws:username", None)
            add_tags(context, "aws:principaltag/", session.get("Tags", []))
            principal = Principal(session["Arn"], account, "federated", frozenset({session["Arn"]}))
            policies = self._session_policies(account, session) or ()
            return PrincipalPolicies(principal, base.identity, base.boundary, policies, context)
        return base

    # --- policies ---------------------------------------------------------------------------------

    def managed(self, account: str, arn: str) -> Policy | None:
        doc = AWS_MANAGED.get(arn)
        source_type = "aws-managed"
        if doc is None:
            doc = self._directory.get(account, "policy", arn.rsplit("/", 1)[-1])
            source_type = "user-managed"
            if doc is None or doc["Arn"] != arn:
                return None
        text = doc["Versions"][doc["DefaultVersionId"]]["Document"]
        return compile_policy(text).named(arn, source_type)

    def holder_policies(self, account: str, kind: str, holder: Doc) -> list[Policy]:
        policies = [policy for arn in holder["AttachedPolicies"] if (policy := self.managed(account, arn))]
        for name, text in sorted(holder["InlinePolicies"].items()):
            policies.append(compile_policy(text).named(f"{holder['Arn']} inline policy {name}", kind))
        return policies

    def _boundary(self, account: str, holder: Doc) -> Policy | None:
        arn = holder.get("PermissionsBoundary")
        if not arn:
            return None
        return self.managed(account, arn)

    def _session_policies(self, account: str, session: Doc) -> tuple[Policy, ...] | None:
        texts: Sequence[str] = session.get("SessionPolicies") or ()
        arns: Sequence[str] = session.get("PolicyArns") or ()
        if not texts and not arns:
            return None
        policies = [compile_policy(text).named("session policy", "none") for text in texts]
        policies += [policy for arn in arns if (policy := self.managed(account, arn))]
        return tuple(policies)


def root_policies(account: str) -> PrincipalPolicies:
    arn = f"arn:aws:iam::{account}:root"
    context: Context = {
        "aws:userid": [account],
        "aws:principalarn": [arn],
        "aws:principalaccount": [account],
        "aws:principaltype": ["Account"],
    }
    return PrincipalPolicies(Principal(arn, account, "root", frozenset({arn})), (), None, None, context)


def add_tags(context: Context, prefix: str, tags: Sequence[dict[str, str]]) -> None:
    for tag in tags:
        context[prefix + tag["Key"].lower()] = [tag["Value"]]
