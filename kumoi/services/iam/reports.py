"""GetAccountAuthorizationDetails, and the policy simulator (SimulatePrincipalPolicy,
SimulateCustomPolicy), which evaluates with the same engine the authorizer uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kumoi.auth.policy import (
    AccessRequest,
    Decision,
    Policy,
    PolicyKind,
    PolicySet,
    PolicySyntaxError,
    Principal,
    compile_policy,
    evaluate,
)
from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase, encode_document, pick
from kumoi.services.iam.directory import GROUP, POLICY, PROFILE, ROLE, USER, Doc
from kumoi.services.iam.managed import AWS_MANAGED
from kumoi.services.iam.principals import PrincipalPolicies, Resolver
from kumoi.services.iam.roles import role_out

#: Action and resource pairs one simulation may evaluate.
SIMULATION_MAX = 1000


def _inline_list(holder: Doc) -> list[Doc]:
    return [
        {"PolicyName": name, "PolicyDocument": encode_document(text)}
        for name, text in sorted(holder["InlinePolicies"].items())
    ]


class ReportOperations(IamBase):
    resolver: Resolver

    def _attached(self, account: str, holder: Doc) -> list[Doc]:
        policies = [self.managed_policy(account, arn) for arn in holder["AttachedPolicies"]]
        return [{"PolicyName": doc["PolicyName"], "PolicyArn": doc["Arn"]} for doc in policies]

    async def get_account_authorization_details(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        wanted = set(
            request.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
        )
        output: dict[str, Any] = {"IsTruncated": False}
        users = self.directory.sorted(account, USER)
        groups = self.directory.sorted(account, GROUP)
        roles = self.directory.sorted(account, ROLE)
        if "User" in wanted:
            output["UserDetailList"] = [self._user_detail(account, doc) for doc in users]
        if "Group" in wanted:
            output["GroupDetailList"] = [
                pick(doc, ("Path", "GroupName", "GroupId", "Arn", "CreateDate"))
                | {
                    "GroupPolicyList": _inline_list(doc),
                    "AttachedManagedPolicies": self._attached(account, doc),
                }
                for doc in groups
            ]
        if "Role" in wanted:
            output["RoleDetailList"] = [self._role_detail(account, doc) for doc in roles]
        policies: list[Doc] = []
        if "LocalManagedPolicy" in wanted:
            policies += self.directory.sorted(account, POLICY)
        if "AWSManagedPolicy" in wanted:
            used = {arn for holder in (*users, *groups, *roles) for arn in holder["AttachedPolicies"]}
            used |= {
                holder["PermissionsBoundary"]
                for holder in (*users, *roles)
                if holder.get("PermissionsBoundary")
            }
            policies += [doc for arn, doc in sorted(AWS_MANAGED.items()) if arn in used]
        if wanted & {"LocalManagedPolicy", "AWSManagedPolicy"}:
            output["Policies"] = [
                self._policy_detail(account, doc, (*users, *groups, *roles)) for doc in policies
            ]
        return output

    def _user_detail(self, account: str, doc: Doc) -> Doc:
        detail = pick(doc, ("Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"))
        detail.update(
            UserPolicyList=_inline_list(doc),
            GroupList=list(doc["Groups"]),
            AttachedManagedPolicies=self._attached(account, doc),
        )
        if doc.get("PermissionsBoundary"):
            detail["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": doc["PermissionsBoundary"],
            }
        return detail

    def _role_detail(self, account: str, doc: Doc) -> Doc:
        detail = role_out(doc)
        profiles = [p for p in self.directory.sorted(account, PROFILE) if doc["RoleName"] in p["Roles"]]
        detail.update(
            InstanceProfileList=[
                pick(p, ("Path", "InstanceProfileName", "InstanceProfileId", "Arn", "CreateDate"))
                | {"Roles": [role_out(doc, full=False)]}
                for p in profiles
            ],
            RolePolicyList=_inline_list(doc),
            AttachedManagedPolicies=self._attached(account, doc),
        )
        detail.pop("Description", None)
        detail.pop("MaxSessionDuration", None)
        return detail

    @staticmethod
    def _policy_detail(account: str, doc: Doc, holders: Sequence[Doc]) -> Doc:
        detail = pick(
            doc,
            ("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "IsAttachable", "Description"),
        )
        detail.update(
            CreateDate=doc["CreateDate"],
            UpdateDate=doc["UpdateDate"],
            AttachmentCount=sum(doc["Arn"] in holder["AttachedPolicies"] for holder in holders),
            PermissionsBoundaryUsageCount=sum(
                holder.get("PermissionsBoundary") == doc["Arn"] for holder in holders
            ),
            PolicyVersionList=[
                {
                    "Document": encode_document(version["Document"]),
                    "VersionId": version["VersionId"],
                    "IsDefaultVersion": version["VersionId"] == doc["DefaultVersionId"],
                    "CreateDate": version["CreateDate"],
                }
                for version in doc["Versions"].values()
            ],
        )
        return detail

    # --- simulation -------------------------------------------------------------------------------

    async def simulate_principal_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        source = request["PolicySourceArn"]
        kind, _, name = source.partition(f"arn:aws:iam::{account}:")[2].partition("/")
        name = name.rsplit("/", 1)[-1]
        holder = self.directory.get(account, kind, name) if kind in (USER, GROUP, ROLE) else None
        if holder is None or holder["Arn"] != source:
            raise api.NoSuchEntityException(f"Could not find {source}")
        if kind == USER:
            base = self.resolver.for_user(account, holder)
        elif kind == ROLE:
            base = self.resolver.for_role(account, holder)
        else:
            policies = tuple(self.resolver.holder_policies(account, GROUP, holder))
            base = PrincipalPolicies(Principal(source, account, "user", frozenset({source})), policies)
        extra = _inputs(request.get("PolicyInputList"), "identity", "user")
        boundary = _inputs(request.get("PermissionsBoundaryPolicyInputList"), "identity", "none")
        merged = PrincipalPolicies(
            base.principal,
            base.identity + extra,
            boundary[0] if boundary else base.boundary,
            None,
            base.context,
        )
        return _simulate(request, merged, account)

    async def simulate_custom_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        caller = request.get("CallerArn") or f"arn:aws:iam::{account}:user/simulated"
        policies = _inputs(request.get("PolicyInputList"), "identity", "user")
        boundary = _inputs(request.get("PermissionsBoundaryPolicyInputList"), "identity", "none")
        context: dict[str, list[str]] = {"aws:principalarn": [caller], "aws:principalaccount": [account]}
        if ":user/" in caller:
            context["aws:username"] = [caller.rsplit("/", 1)[-1]]
        principal = Principal(caller, account, "user", frozenset({caller}))
        merged = PrincipalPolicies(principal, policies, boundary[0] if boundary else None, None, context)
        return _simulate(request, merged, account)


def _inputs(texts: Sequence[str] | None, kind: PolicyKind, source_type: str) -> tuple[Policy, ...]:
    policies: list[Policy] = []
    for index, text in enumerate(texts or ()):
        try:
            policies.append(compile_policy(text, kind).named(f"PolicyInputList.{index + 1}", source_type))
        except PolicySyntaxError as exc:
            raise api.InvalidInputException(exc.message) from None
    return tuple(policies)


def _context_entries(request: dict[str, Any]) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    for entry in request.get("ContextEntries") or ():
        values = [str(value) for value in entry.get("ContextKeyValues") or ()]
        context[str(entry.get("ContextKeyName", "")).lower()] = values
    return context


def _simulate(request: dict[str, Any], principal: PrincipalPolicies, account: str) -> dict[str, Any]:
    actions = list(request["ActionNames"])
    resources = list(request.get("ResourceArns") or ["*"])
    if len(actions) * len(resources) > SIMULATION_MAX:
        raise api.InvalidInputException(
            f"Too many action and resource combinations (at most {SIMULATION_MAX})"
        )
    resource_policy: tuple[Policy, ...] = ()
    if request.get("ResourcePolicy"):
        try:
            resource_policy = (
                compile_policy(request["ResourcePolicy"], "resource").named("ResourcePolicy", "resource"),
            )
        except PolicySyntaxError as exc:
            raise api.InvalidInputException(exc.message) from None
    owner = str(request.get("ResourceOwner") or "")
    owner_account = owner.split(":")[4] if owner.count(":") >= 5 else owner
    context = {**principal.context, **_context_entries(request)}
    policies = PolicySet(principal.identity, resource_policy, principal.boundary, principal.session)
    results = []
    for action in actions:
        for resource in resources:
            access = AccessRequest(action, resource, principal.principal, context, owner_account or account)
            results.append(_result(access, evaluate(access, policies)))
    return {"EvaluationResults": results, "IsTruncated": False}


def _result(access: AccessRequest, decision: Decision) -> Doc:
    return {
        "EvalActionName": access.action,
        "EvalResourceName": access.resource,
        "EvalDecision": decision.decision,
        "MatchedStatements": [
            {"SourcePolicyId": match.source, "SourcePolicyType": match.source_type}
            for match in decision.matched
        ],
        "MissingContextValues": [],
    }
