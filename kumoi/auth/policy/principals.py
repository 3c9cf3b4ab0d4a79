"""The ``Principal`` element of resource and trust policies, and matching a caller against it.

A match has a strength, because AWS's evaluation treats them differently: naming the caller's own
ARN (``direct``) grants even without an identity policy; naming the caller's account (``account``:
``"123456789012"`` or ``arn:aws:iam::123456789012:root``) delegates to that account's identity
policies; ``"*"`` (``anyone``) includes anonymous callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from kumoi.auth.policy.errors import PolicySyntaxError
from kumoi.auth.policy.model import Principal

_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")
_KINDS = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


class Strength(IntEnum):
    NONE = 0
    ACCOUNT = 1
    ANYONE = 2
    DIRECT = 3


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    anyone: bool
    accounts: frozenset[str]
    names: frozenset[str]

    def match(self, principal: Principal) -> Strength:
        if principal.names & self.names:
            return Strength.DIRECT
        if self.anyone:
            return Strength.ANYONE
        if principal.account_id and principal.account_id in self.accounts and not principal.is_anonymous:
            return Strength.ACCOUNT
        return Strength.NONE


def compile_principal(raw: object) -> PrincipalSpec:
    if raw == "*":
        return PrincipalSpec(True, frozenset(), frozenset())
    if not isinstance(raw, dict) or not raw or not set(raw) <= _KINDS:
        raise PolicySyntaxError("Invalid principal in policy")
    anyone = False
    accounts: set[str] = set()
    names: set[str] = set()
    for kind, entries in raw.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, str) or not entry:
                raise PolicySyntaxError("Invalid principal in policy")
            if kind == "AWS":
                if entry == "*":
                    anyone = True
                    continue
                root = _ROOT.match(entry)
                if _ACCOUNT.match(entry) or root:
                    accounts.add(root.group(1) if root else entry)
                    continue
                if not entry.startswith("arn:"):
                    raise PolicySyntaxError(f'Invalid principal in policy: "AWS":"{entry}"')
            names.add(entry)
    return PrincipalSpec(anyone, frozenset(accounts), frozenset(names))
