"""The request authorizer (``--enforce-iam``): AWS's policy evaluation for every request.

For each request, the service's authorization map (``services/<svc>/authz.py``) names the
action(s), resource ARN(s) and service condition keys; this module adds the caller's policies
(:class:`~kumoi.services.iam.principals.Resolver`), the global condition keys kumoi knows
(``aws:SourceIp``, ``aws:CurrentTime``, ``aws:EpochTime``, ``aws:SecureTransport``,
``aws:RequestedRegion``), and the resource's own policy (a bucket, queue or topic policy) read
through the service's reader, then evaluates. A denial answers ``AccessDenied`` in AWS's words;
every decision is logged on one line with the statement that decided it (logger ``kumoi.authz``).

IAM may be enforced for some accounts only: a request is evaluated when the caller's account or
the account owning a resource it acts on is enforced, and whenever it acts on another account's
resource (or is anonymous), since only a resource policy can open that, enforced or not. The
caller's identity side counts where its account is enforced; elsewhere it allows everything, as
kumoi does for unenforced accounts, so the resource policy decides. Deliveries between
services (an SNS message to a queue, an S3 event to a queue or topic) are evaluated against the
destination's resource policy alone, with the AWS service as the principal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from kumoi.auth.policy import (
    AccessRequest,
    Decision,
    Policy,
    PolicySet,
    PolicySyntaxError,
    Principal,
    ResourceFacts,
    Target,
    compile_policy,
    denial_message,
    evaluate,
)
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.delivery import DeliverySource
from kumoi.core.errors import ServiceError
from kumoi.services.iam.directory import IamDirectory
from kumoi.services.iam.principals import PrincipalPolicies, Resolver

log = logging.getLogger("kumoi.authz")


class ServiceAuthz(Protocol):
    """One service's authorization map (see ``services/s3/authz.py``)."""

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        """What the operation needs; empty if it needs no permission (sts:GetCallerIdentity)."""
        ...

    async def resource(self, target: Target) -> ResourceFacts:
        """The resource's policy, owner and tags (empty facts if the resource does not exist)."""
        ...


class _ContextKeys(Mapping[str, Sequence[str]]):
    """A policy's condition keys, looked up one at a time: subclasses give :meth:`get` and
    :meth:`_keys`."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Sequence[str]:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def _keys(self) -> list[str]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def _resource_tag(tags: Mapping[str, str], key: str) -> Sequence[str] | None:
    wanted = key[len("aws:resourcetag/") :]
    return [value for name, value in tags.items() if name.lower() == wanted] or None


def _time_key(now: float, key: str) -> Sequence[str] | None:
    if key == "aws:currenttime":
        return [datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    if key == "aws:epochtime":
        return [str(int(now))]
    return None


class RequestKeys(_ContextKeys):
    """The request context of one evaluation: the service's keys, the principal's, the resource's
    tags, and the global keys of the request, computed only when a policy asks for them (most
    policies ask for none, and formatting the time on every request would cost more than the
    evaluation itself)."""

    __slots__ = ("_context", "_now", "_principal", "_service", "_tags")

    def __init__(
        self,
        service: Mapping[str, Sequence[str]],
        principal: Mapping[str, Sequence[str]],
        context: RequestContext,
        now: float,
        tags: Mapping[str, str],
    ) -> None:
        self._service = service
        self._principal = principal
        self._context = context
        self._now = now
        self._tags = tags

    def get(self, key: str, default: Sequence[str] | None = None) -> Sequence[str] | None:  # type: ignore[override]
        value = self._service.get(key)
        if value is None:
            value = self._principal.get(key)
        if value is None:
            value = self._derived(key)
        return default if value is None else value

    def _derived(self, key: str) -> Sequence[str] | None:
        if key.startswith("aws:resourcetag/"):
            return _resource_tag(self._tags, key)
        if key == "aws:sourceip":
            return [self._context.remote_addr]
        if key == "aws:securetransport":
            return ["true" if self._context.base_url.startswith("https:") else "false"]
        if key == "aws:requestedregion":
            return [self._context.region]
        return _time_key(self._now, key)

    def _keys(self) -> list[str]:
        derived = ["aws:sourceip", "aws:currenttime", "aws:epochtime", "aws:securetransport"]
        derived += ["aws:requestedregion"] + ["aws:resourcetag/" + name.lower() for name in self._tags]
        return list(dict.fromkeys([*self._service, *self._principal, *derived]))


class DeliveryKeys(_ContextKeys):
    """The request context of a delivery between services: ``aws:SourceArn``,
    ``aws:SourceAccount``, the destination's tags and the time."""

    __slots__ = ("_given", "_now", "_tags")

    def __init__(self, source: DeliverySource, now: float, tags: Mapping[str, str]) -> None:
        self._given: dict[str, Sequence[str]] = {
            "aws:sourcearn": [source.source_arn],
            "aws:sourceaccount": [source.source_account],
        }
        self._now = now
        self._tags = tags

    def get(self, key: str, default: Sequence[str] | None = None) -> Sequence[str] | None:  # type: ignore[override]
        value = self._given.get(key)
        if value is None:
            value = (
                _resource_tag(self._tags, key)
                if key.startswith("aws:resourcetag/")
                else _time_key(self._now, key)
            )
        return default if value is None else value

    def _keys(self) -> list[str]:
        return [*self._given, "aws:currenttime", "aws:epochtime"]


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, status=403)


#: Reusable decisions kept (the cache starts over when full).
DECISION_CACHE = 50000


#: Always enforced (``--enforce-iam``).
def _everyone(_account: str) -> bool:
    return True


class IamAuthorizer:
    """Enforces IAM policies on requests (:meth:`authorize`) and on deliveries between services
    (:meth:`authorize_delivery`), for the accounts ``enforced`` says (every account by default)."""

    def __init__(
        self,
        directory: IamDirectory,
        clock: Clock,
        services: Mapping[str, ServiceAuthz],
        enforced: Callable[[str], bool] = _everyone,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self._services = services
        self._enforced = enforced
        self.resolver = Resolver(directory)
        #: Reusable decisions (see :meth:`_decide`) by principal (its id: the resolver makes a new
        #: object whenever identities change, and the entry keeps the object it was made for),
        #: action, resource, owner, resource policy and whether the caller's identity side counts.
        self._decisions: dict[
            tuple[int, bool, str, str, str, str | None, bool], tuple[PrincipalPolicies, Decision]
        ] = {}

    async def authorize(
        self, context: RequestContext, params: Mapping[str, Any], *, reveal_missing: bool = False
    ) -> bool:
        """Evaluate what the request needs. A target is evaluated when IAM is enforced for the
        caller's account, when it is enforced for the account owning the resource, or when that
        account is not the caller's (another account's resource, or any resource for an anonymous
        caller: only a resource policy can open those). The caller's identity side counts only
        where its account is enforced; elsewhere it allows everything, as kumoi does for such
        accounts, so across accounts the resource policy decides. Where every target passes and
        some belong to another account, ``context.foreign_granted`` tells the provider so. Where
        no target needs evaluating, a signed request passes and an anonymous one is refused.

        With ``reveal_missing`` (S3, which tells anyone that a bucket does not exist), a target on
        a resource that does not exist needs no grant from an anonymous caller: the provider
        answers that it is missing. Return whether any target was evaluated."""
        await self._directory.ready()
        service = self._services.get(context.service)
        targets: Sequence[Target]
        if service is None:
            targets = (Target(f"{context.service}:{context.operation}", "*"),)
        else:
            targets = service.targets(context, params)
        if not targets:
            return False
        caller = context.caller
        account = caller.account_id
        caller_enforced = bool(account) and self._enforced(account)
        checked: list[tuple[Target, ResourceFacts, str]] = []
        missing = 0
        for target in targets:
            known = target.resource_account
            if known and known == account and not caller_enforced:
                continue  # the caller's own account, not enforced: no need to read the resource
            found = await self._facts(service, target)
            owner = found.owner or known
            if reveal_missing and not account and not owner and target.locator is not None:
                missing += 1
            elif self._needs_evaluation(caller_enforced, account, owner, found):
                checked.append((target, found, owner))
        if not account and len(checked) + missing < len(targets):
            raise access_denied("Access Denied")  # an anonymous caller needs every target opened
        if not checked:
            return False
        now = self._clock.now()
        if account:
            self._directory.last_used[caller.access_key_id] = (context.service, context.region, now)
        principal = self.resolver.for_caller(caller)
        foreign = False
        for target, found, owner in checked:
            across = not account or owner not in ("", account)
            foreign = foreign or across
            request, decision = self._judge(context, principal, caller_enforced, target, found, owner, now)
            if request is not None and not decision.allowed:
                raise access_denied(_denial(context.service, across, request, decision))
        context.foreign_granted = foreign
        return True

    async def allows(self, context: RequestContext, target: Target) -> bool:
        """Would the request's caller be allowed ``target`` too? A question a provider asks after
        the request itself was authorized (S3 asks for ``s3:ListBucket`` before it tells a caller
        that a key does not exist). Evaluated as :meth:`authorize` evaluates each target, but
        answered rather than raised; True where the target needs no evaluation."""
        account = context.caller.account_id
        caller_enforced = bool(account) and self._enforced(account)
        found = await self._facts(self._services.get(context.service), target)
        owner = found.owner or target.resource_account
        if not self._needs_evaluation(caller_enforced, account, owner, found):
            return True
        principal = self.resolver.for_caller(context.caller)
        now = self._clock.now()
        return self._judge(context, principal, caller_enforced, target, found, owner, now)[1].allowed

    def _needs_evaluation(
        self, caller_enforced: bool, account: str, owner: str, found: ResourceFacts
    ) -> bool:
        """Does a target on a resource of ``owner`` need evaluating for a caller of ``account``?
        (STS checks trust policies itself.)"""
        return caller_enforced or self._enforced(owner) or (owner not in ("", account) and not found.trust)

    def _judge(
        self,
        context: RequestContext,
        principal: PrincipalPolicies,
        caller_enforced: bool,
        target: Target,
        found: ResourceFacts,
        owner: str,
        now: float,
    ) -> tuple[AccessRequest | None, Decision]:
        """The decision on one target (reused where it depends on nothing but what the cache key
        names), logged; the access request comes with every denial, for its message."""
        logging_on = log.isEnabledFor(logging.INFO)
        started = time.perf_counter() if logging_on else 0.0
        key = (
            id(principal),
            caller_enforced,
            target.action,
            target.resource,
            owner,
            found.policy,
            found.trust,
        )
        cached = self._decisions.get(key)
        request: AccessRequest | None = None
        if cached is not None and cached[0] is principal:
            decision = cached[1]
        else:
            keys = RequestKeys(target.context, principal.context, context, now, found.tags)
            acting = principal if caller_enforced else _unenforced(principal)
            request, decision, static = self._decide(acting, target, found, keys)
            if static:
                if len(self._decisions) >= DECISION_CACHE:
                    self._decisions.clear()
                self._decisions[key] = (principal, decision)
        if logging_on or not decision.allowed:
            request = request or AccessRequest(target.action, target.resource, principal.principal, {}, owner)
            if logging_on:
                self._log(context.request_id, request, decision, started)
        return request, decision

    async def authorize_delivery(self, service: str, action: str, arn: str, source: DeliverySource) -> None:
        """May ``source`` deliver to the queue or topic ``arn`` (``action`` is
        ``sqs:SendMessage`` or ``sns:Publish``)? Only its resource policy can allow it. Raise
        ``AccessDenied`` (and log why) if not. The caller checks that IAM is enforced for the
        destination's account."""
        parts = arn.split(":")
        locator = (parts[4], parts[5]) if service == "sqs" and len(parts) == 6 else (arn,)
        target = Target(action, arn, {}, locator, parts[4] if len(parts) > 4 else "")
        found = await self._facts(self._services.get(service), target)
        name = source.service_principal
        principal = PrincipalPolicies(Principal(name, "", "service", frozenset({name})))
        keys = DeliveryKeys(source, self._clock.now(), found.tags)
        started = time.perf_counter()
        request, decision, _static = self._decide(principal, target, found, keys)
        if not decision.allowed:
            log.warning(
                "DENY delivery %s on %s by %s for %s (account %s): %s",
                action,
                arn,
                name,
                source.source_arn,
                source.source_account,
                _because(decision),
            )
            raise access_denied(denial_message(request, decision))
        self._log("-", request, decision, started)

    @staticmethod
    async def _facts(service: ServiceAuthz | None, target: Target) -> ResourceFacts:
        if service is None or target.locator is None:
            return ResourceFacts(owner=target.resource_account)
        return await service.resource(target)

    @staticmethod
    def _decide(
        principal: PrincipalPolicies, target: Target, facts: ResourceFacts, keys: Mapping[str, Sequence[str]]
    ) -> tuple[AccessRequest, Decision, bool]:
        """Evaluate; also say whether the decision depends only on the principal, action,
        resource, owner and resource policy (every policy involved is static), so it may be
        reused for the next request with the same ones."""
        resource_policies: tuple[Policy, ...] = ()
        if facts.policy:
            try:
                policy = compile_policy(facts.policy, "trust" if facts.trust else "resource")
                resource_policies = (policy.named(f"resource policy of {target.resource}", "resource"),)
            except PolicySyntaxError:
                log.warning("ignoring an invalid resource policy on %s", target.resource)
        owner = facts.owner or target.resource_account
        request = AccessRequest(target.action, target.resource, principal.principal, keys, owner)
        policies = PolicySet(principal.identity, resource_policies, principal.boundary, principal.session)
        static = (
            all(policy.static for policy in (*principal.identity, *resource_policies))
            and (principal.boundary is None or principal.boundary.static)
            and all(policy.static for policy in principal.session or ())
        )
        return request, evaluate(request, policies), static

    @staticmethod
    def _log(request_id: str, request: AccessRequest, decision: Decision, started: float) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "%s %s %s on %s by %s: %s (%.2f ms, request %s)",
            "ALLOW" if decision.allowed else "DENY",
            decision.decision,
            request.action,
            request.resource,
            request.principal.arn or "anonymous",
            _because(decision),
            (time.perf_counter() - started) * 1000,
            request_id,
        )


#: The identity side of a caller whose account IAM is not enforced for: kumoi lets such
#: principals do everything in their own account, so only the resource policy (and its denies)
#: decides what they may do in another one.
_OPEN_IDENTITY = compile_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
).named("IAM not enforced for the caller's account", "none")


def _unenforced(principal: PrincipalPolicies) -> PrincipalPolicies:
    """``principal`` with the identity side of an account IAM is not enforced for."""
    return PrincipalPolicies(principal.principal, (_OPEN_IDENTITY,), None, None, principal.context)


def _denial(service: str, foreign: bool, request: AccessRequest, decision: Decision) -> str:
    """The message of a denial. S3 explains a denial only to callers of the bucket's own account;
    another account's or an anonymous caller gets its bare "Access Denied"."""
    if service == "s3" and foreign:
        return "Access Denied"
    return denial_message(request, decision)


def _because(decision: Decision) -> str:
    if decision.reason == "root" and decision.allowed:
        return "root user of the account"
    return "; ".join(match.describe() for match in decision.matched) or f"no {decision.reason} policy allows"
