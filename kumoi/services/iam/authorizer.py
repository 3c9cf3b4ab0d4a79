"""The request authorizer (``--enforce-iam``): AWS's policy evaluation for every request.

For each request, the service's authorization map (``services/<svc>/authz.py``) names the
action(s), resource ARN(s) and service condition keys; this module adds the caller's policies
(:class:`~kumoi.services.iam.principals.Resolver`), the global condition keys kumoi knows
(``aws:SourceIp``, ``aws:CurrentTime``, ``aws:EpochTime``, ``aws:SecureTransport``,
``aws:RequestedRegion``), and the resource's own policy (a bucket or queue policy) read through
the service's reader, then evaluates. A denial answers ``AccessDenied`` in AWS's words; every
decision is logged on one line with the statement that decided it (logger ``kumoi.authz``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from kumoi.auth.policy import (
    AccessRequest,
    Decision,
    Policy,
    PolicySet,
    PolicySyntaxError,
    ResourceFacts,
    Target,
    compile_policy,
    denial_message,
    evaluate,
)
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
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


class RequestKeys(Mapping[str, Sequence[str]]):
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

    def __getitem__(self, key: str) -> Sequence[str]:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Sequence[str] | None = None) -> Sequence[str] | None:  # type: ignore[override]
        value = self._service.get(key)
        if value is None:
            value = self._principal.get(key)
        if value is None:
            value = self._derived(key)
        return default if value is None else value

    def _derived(self, key: str) -> Sequence[str] | None:
        if key.startswith("aws:resourcetag/"):
            wanted = key[len("aws:resourcetag/") :]
            found = [value for name, value in self._tags.items() if name.lower() == wanted]
            return found or None
        if key == "aws:sourceip":
            return [self._context.remote_addr]
        if key == "aws:currenttime":
            return [datetime.fromtimestamp(self._now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
        if key == "aws:epochtime":
            return [str(int(self._now))]
        if key == "aws:securetransport":
            return ["true" if self._context.base_url.startswith("https:") else "false"]
        if key == "aws:requestedregion":
            return [self._context.region]
        return None

    def _keys(self) -> list[str]:
        derived = ["aws:sourceip", "aws:currenttime", "aws:epochtime", "aws:securetransport"]
        derived += ["aws:requestedregion"] + ["aws:resourcetag/" + name.lower() for name in self._tags]
        return list(dict.fromkeys([*self._service, *self._principal, *derived]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, status=403)


class IamAuthorizer:
    """:class:`~kumoi.core.authz.Authorizer` that enforces IAM policies."""

    def __init__(self, directory: IamDirectory, clock: Clock, services: Mapping[str, ServiceAuthz]) -> None:
        self._directory = directory
        self._clock = clock
        self._services = services
        self.resolver = Resolver(directory)

    async def authorize(self, context: RequestContext, params: Mapping[str, Any]) -> None:
        await self._directory.ready()
        service = self._services.get(context.service)
        targets: Sequence[Target]
        if service is None:
            targets = (Target(f"{context.service}:{context.operation}", "*"),)
        else:
            targets = service.targets(context, params)
        if not targets:
            return
        caller = context.caller
        now = self._clock.now()
        if caller.account_id:
            self._directory.last_used[caller.access_key_id] = (context.service, context.region, now)
        principal = self.resolver.for_caller(caller)
        logging_on = log.isEnabledFor(logging.INFO)
        for target in targets:
            started = time.perf_counter() if logging_on else 0.0
            request, decision = await self._decide(service, principal, context, now, target)
            if logging_on:
                self._log(context, request, decision, started)
            if not decision.allowed:
                raise access_denied(denial_message(request, decision))

    async def _decide(
        self,
        service: ServiceAuthz | None,
        principal: PrincipalPolicies,
        context: RequestContext,
        now: float,
        target: Target,
    ) -> tuple[AccessRequest, Decision]:
        resource_policies: tuple[Policy, ...] = ()
        owner = target.resource_account
        tags: Mapping[str, str] = {}
        if service is not None and target.locator is not None:
            facts = await service.resource(target)
            owner = facts.owner or owner
            tags = facts.tags
            if facts.policy:
                try:
                    policy = compile_policy(facts.policy, "trust" if facts.trust else "resource")
                    resource_policies = (policy.named(f"resource policy of {target.resource}", "resource"),)
                except PolicySyntaxError:
                    log.warning("ignoring an invalid resource policy on %s", target.resource)
        keys = RequestKeys(target.context, principal.context, context, now, tags)
        request = AccessRequest(target.action, target.resource, principal.principal, keys, owner)
        policies = PolicySet(principal.identity, resource_policies, principal.boundary, principal.session)
        return request, evaluate(request, policies)

    @staticmethod
    def _log(context: RequestContext, request: AccessRequest, decision: Decision, started: float) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        because = (
            "; ".join(match.describe() for match in decision.matched) or f"no {decision.reason} policy allows"
        )
        if decision.reason == "root" and decision.allowed:
            because = "root user of the account"
        log.info(
            "%s %s %s on %s by %s: %s (%.2f ms, request %s)",
            "ALLOW" if decision.allowed else "DENY",
            decision.decision,
            request.action,
            request.resource,
            request.principal.arn or "anonymous",
            because,
            (time.perf_counter() - started) * 1000,
            context.request_id,
        )
