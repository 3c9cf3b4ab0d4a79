"""The vocabulary of evaluation: compiled policies and statements, the request, the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kumoi.auth.policy.conditions import Condition
    from kumoi.auth.policy.principals import PrincipalSpec
    from kumoi.auth.policy.variables import Template


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement. ``actions``/``resources`` are patterns (``not_*`` inverts);
    templates with policy variables are resolved per request."""

    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[Template, ...] | None
    not_resources: bool
    principals: PrincipalSpec | None
    not_principals: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy document. ``source`` names it in decisions and logs (a policy ARN, or
    ``user/alice inline policy s3-read``); ``source_type`` is IAM's PolicySourceType."""

    version: str
    statements: tuple[Statement, ...]
    text: str
    source: str = ""
    source_type: str = "none"
    #: No statement has a condition or a policy variable: its decisions depend only on the
    #: action, the resource and the principal, so they may be reused (see the authorizer).
    static: bool = False

    def named(self, source: str, source_type: str) -> Policy:
        return Policy(self.version, self.statements, self.text, source, source_type, self.static)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who asks. ``arn`` is the caller's ARN (for a role session the ``assumed-role`` ARN);
    ``names`` are every ARN a resource policy's ``Principal`` may use for it (a session is also
    its role's ARN); ``kind`` is ``root``, ``user``, ``role``, ``federated``, ``anonymous`` or
    ``service`` (an AWS service principal such as ``sns.amazonaws.com``, which has no account)."""

    arn: str
    account_id: str
    kind: str
    names: frozenset[str] = frozenset()

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    @property
    def is_service(self) -> bool:
        return self.kind == "service"


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """One action on one resource, with the request's condition keys (names lower-cased, every
    value a list of strings as IAM's request context holds them)."""

    action: str
    resource: str
    principal: Principal
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: The account that owns the resource ("" if unknown: then it is the principal's own).
    resource_account: str = ""


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    source: str
    source_type: str
    index: int
    sid: str | None
    effect: Effect

    def describe(self) -> str:
        label = f"Sid {self.sid!r}" if self.sid else f"statement #{self.index + 1}"
        return f"{self.effect.value} {label} of {self.source or 'policy'}"


@dataclass(frozen=True, slots=True)
class Decision:
    """``decision`` is IAM's EvalDecision (``allowed``, ``explicitDeny``, ``implicitDeny``);
    ``reason`` says which kind of policy decided (for AWS's denial message); ``matched`` are the
    statements that decided it."""

    decision: str
    reason: str
    matched: tuple[MatchedStatement, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass(frozen=True, slots=True)
class Target:
    """What a service says one operation needs: an action on a resource, with the service's
    condition keys (lower-cased names). ``locator`` tells the service's resource-policy reader
    where the resource's policy lives (a bucket name, a queue's account and name); None when the
    resource has no resource policy. ``resource_account`` is the owner when the service knows it."""

    action: str
    resource: str
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    locator: tuple[str, ...] | None = None
    resource_account: str = ""


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What the authorizer needs to know about an existing resource: its policy document (None if
    it has none), its owner account ("" if unknown) and its tags (for ``aws:ResourceTag/*``)."""

    policy: str | None = None
    owner: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The policy is a role's trust policy (no ``Resource`` element).
    trust: bool = False
