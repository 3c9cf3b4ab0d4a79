"""AWS's policy evaluation logic for one request against the policies that apply to it.

The order is AWS's (IAM User Guide, "Policy evaluation logic"):

1. An explicit ``Deny`` in any applicable policy (identity, resource, permissions boundary, session)
   decides: denied.
2. Anonymous callers are allowed only by a resource policy that allows ``"*"``.
3. The root user of the resource's account is allowed (only a ``Deny`` stops it).
4. Same account: a resource policy that names the caller's own ARN allows by itself; otherwise an
   identity policy must allow, and a permissions boundary and session policy, where present, must
   allow too (they only ever narrow). A resource policy allowing ``"*"`` counts like an identity
   allow for same-account callers.
5. Cross-account: the caller's identity side (identity ∩ boundary ∩ session) must allow *and* the
   resource policy must allow the caller (by ARN, account or ``"*"``).
6. An AWS service delivering for a resource (``sns.amazonaws.com`` sending an SNS message to a
   queue) has no identity policies: only the resource policy can allow it, by naming the
   service or ``"*"`` (usually with ``aws:SourceArn``/``aws:SourceAccount`` conditions).

Anything else is an implicit deny, whose ``reason`` names the policy kind that was missing, for
AWS's message ("because no identity-based policy allows the s3:GetObject action").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kumoi.auth.policy.glob import glob_match
from kumoi.auth.policy.model import AccessRequest, Decision, Effect, MatchedStatement, Policy, Statement
from kumoi.auth.policy.principals import Strength

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"

IDENTITY = "identity"
RESOURCE = "resource"
BOUNDARY = "boundary"
SESSION = "session"
ROOT = "root"


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies that apply to one request. ``session`` is None when the caller has no session
    policy (not the same as an empty tuple, which allows nothing)."""

    identity: Sequence[Policy] = ()
    resource: Sequence[Policy] = ()
    boundary: Policy | None = None
    session: Sequence[Policy] | None = None


@dataclass(slots=True)
class _Scan:
    denies: list[MatchedStatement]
    allows: list[MatchedStatement]
    strength: Strength = Strength.NONE


def statement_matches(statement: Statement, request: AccessRequest) -> bool:
    """Action, resource and conditions (not the principal) match the request."""
    action_hit = any(glob_match(pattern, request.action, ignore_case=True) for pattern in statement.actions)
    if action_hit == statement.not_actions:
        return False
    if statement.resources is not None:
        resource_hit = False
        for template in statement.resources:
            pattern = template.resolve(request.context)
            if pattern is not None and glob_match(pattern, request.resource):
                resource_hit = True
                break
        if resource_hit == statement.not_resources:
            return False
    return all(condition.test(request.context) for condition in statement.conditions)


def principal_strength(statement: Statement, request: AccessRequest) -> Strength:
    spec = statement.principals
    if spec is None:
        return Strength.DIRECT
    strength = spec.match(request.principal)
    if statement.not_principals:
        return Strength.ANYONE if strength == Strength.NONE else Strength.NONE
    return strength


def _matched(policy: Policy, statement: Statement) -> MatchedStatement:
    return MatchedStatement(
        policy.source, policy.source_type, statement.index, statement.sid, statement.effect
    )


#: The outcome of scanning no policies (shared: callers only read it).
_NOTHING = _Scan([], [])
_ROOT_ALLOWED = Decision(ALLOWED, ROOT)
#: What applies to a root user without a resource policy: nothing that could deny it.
_ROOT_ONLY = PolicySet()


def _scan(policies: Sequence[Policy], request: AccessRequest, with_principal: bool) -> _Scan:
    if not policies:
        return _NOTHING
    scan = _Scan([], [])
    for policy in policies:
        for statement in policy.statements:
            strength = Strength.DIRECT
            if with_principal:
                strength = principal_strength(statement, request)
                if strength == Strength.NONE:
                    continue
            if not statement_matches(statement, request):
                continue
            if statement.effect is Effect.DENY:
                scan.denies.append(_matched(policy, statement))
            else:
                scan.allows.append(_matched(policy, statement))
                scan.strength = max(scan.strength, strength)
    return scan


def evaluate(request: AccessRequest, policies: PolicySet) -> Decision:
    principal = request.principal
    same_account = not request.resource_account or request.resource_account == principal.account_id
    if principal.is_root and same_account and policies == _ROOT_ONLY:
        return _ROOT_ALLOWED
    identity = _scan(policies.identity, request, False)
    resource = _scan(policies.resource, request, True)
    boundary = _scan((policies.boundary,), request, False) if policies.boundary is not None else None
    session = _scan(policies.session, request, False) if policies.session is not None else None
    for reason, scan in (
        (RESOURCE, resource),
        (IDENTITY, identity),
        (BOUNDARY, boundary),
        (SESSION, session),
    ):
        if scan is not None and scan.denies:
            return Decision(EXPLICIT_DENY, reason, tuple(scan.denies))
    if principal.is_anonymous:
        if resource.allows and resource.strength >= Strength.ANYONE:
            return Decision(ALLOWED, RESOURCE, tuple(resource.allows))
        return Decision(IMPLICIT_DENY, RESOURCE)
    if principal.is_service:
        if resource.allows:
            return Decision(ALLOWED, RESOURCE, tuple(resource.allows))
        return Decision(IMPLICIT_DENY, RESOURCE)
    if principal.is_root:
        if same_account:
            return _ROOT_ALLOWED
        if resource.allows:
            return Decision(ALLOWED, RESOURCE, tuple(resource.allows))
        return Decision(IMPLICIT_DENY, RESOURCE)
    boundary_ok = boundary is None or bool(boundary.allows)
    session_ok = session is None or bool(session.allows)
    narrowed_ok = boundary_ok and session_ok
    if same_account and resource.allows and resource.strength == Strength.DIRECT:
        return Decision(ALLOWED, RESOURCE, tuple(resource.allows))
    resource_grants = same_account and resource.allows and resource.strength == Strength.ANYONE
    if (identity.allows or resource_grants) and narrowed_ok:
        if same_account or resource.allows:
            matched = identity.allows + (resource.allows if resource.allows else [])
            return Decision(ALLOWED, IDENTITY if identity.allows else RESOURCE, tuple(matched))
        return Decision(IMPLICIT_DENY, RESOURCE)
    if not identity.allows and not resource_grants:
        return Decision(IMPLICIT_DENY, IDENTITY)
    return Decision(IMPLICIT_DENY, BOUNDARY if not boundary_ok else SESSION)


def evaluate_resource_policy(request: AccessRequest, policies: Sequence[Policy]) -> Decision:
    """Only the resource-policy side: does the policy (a role's trust policy, say) allow this
    principal, by ARN, account or ``"*"``, with no ``Deny`` matching? Used by STS to check a trust
    policy whether or not identity policies are enforced."""
    scan = _scan(policies, request, True)
    if scan.denies:
        return Decision(EXPLICIT_DENY, RESOURCE, tuple(scan.denies))
    if scan.allows:
        return Decision(ALLOWED, RESOURCE, tuple(scan.allows))
    return Decision(IMPLICIT_DENY, RESOURCE)
