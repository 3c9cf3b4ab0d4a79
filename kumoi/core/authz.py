"""The authorization hook: may this caller perform this operation with these parameters?

The server calls the configured :class:`Authorizer` after a request is authenticated and decoded,
before the provider runs. The IAM policy engine implements it for the accounts IAM is enforced
for (:class:`Enforcement`); for everyone else only the default check runs
(:func:`default_check`: unsigned requests are refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError


class Authorizer(Protocol):
    async def authorize(self, context: RequestContext, params: Mapping[str, Any]) -> None:
        """Return if allowed; raise a :class:`~kumoi.core.errors.ServiceError` (AccessDenied) if not.
        ``context.service`` and ``context.operation`` name the call; ``context.caller`` is
        anonymous (``account_id == ""``) for unsigned requests, which must be denied unless a
        resource policy allows them. Operations a service lists as ``anonymous_operations``
        (they carry their own proof, like S3's signed POST policy) never reach the authorizer."""
        ...


def default_check(context: RequestContext) -> None:
    """What applies where IAM is not enforced: every signed request is allowed, unsigned ones
    are refused."""
    if not context.caller.account_id:
        raise ServiceError("AccessDenied", "Access Denied", status=403)


class Enforcement:
    """Which accounts IAM policies are enforced for: every account (``--enforce-iam``), the
    accounts listed at start-up (``--enforce-iam-accounts``), and accounts switched on while
    running (``POST /_kumoi/enforcement``). Only those switched on while running can be switched
    off again, so a client can never loosen what the operator configured."""

    __slots__ = ("_configured", "_runtime", "everyone")

    def __init__(self, everyone: bool = False, accounts: Iterable[str] = ()) -> None:
        self.everyone = everyone
        self._configured = frozenset(accounts)
        self._runtime: set[str] = set()

    @property
    def active(self) -> bool:
        """Is IAM enforced for any account at all? (If not, nothing needs the policy engine.)"""
        return self.everyone or bool(self._configured) or bool(self._runtime)

    def applies(self, account: str) -> bool:
        return self.everyone or account in self._configured or account in self._runtime

    def enable(self, account: str) -> None:
        self._runtime.add(account)

    def disable(self, account: str) -> bool:
        """Switch off an account switched on while running; False if it was configured at
        start-up (then it stays enforced)."""
        if self.everyone or account in self._configured:
            return False
        self._runtime.discard(account)
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "accounts": sorted(self._configured | self._runtime),
            "configured": sorted(self._configured),
        }
