"""Policy documents: JSON text → validated, compiled :class:`~kumoi.auth.policy.model.Policy`.

Validation follows IAM's own answers (``MalformedPolicyDocument`` with AWS's messages) for the
three places a document appears: identity policies (managed, inline, permission boundaries,
session policies: ``Resource`` required, no ``Principal``), resource policies (bucket and queue
policies: ``Principal`` required) and role trust policies (``Principal`` required, ``Resource``
prohibited). Compilation is cached by text, so the same document is parsed once per process.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal

from kumoi.auth.policy.conditions import compile_conditions
from kumoi.auth.policy.errors import PolicySyntaxError
from kumoi.auth.policy.model import Effect, Policy, Statement
from kumoi.auth.policy.principals import compile_principal
from kumoi.auth.policy.variables import compile_template

PolicyKind = Literal["identity", "resource", "trust"]

VERSION_CURRENT = "2012-10-17"
VERSION_LEGACY = "2008-10-17"
#: Compiled documents kept (by text and kind).
POLICY_CACHE = 4096

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_VENDOR = re.compile(r"^[a-zA-Z0-9-]+$")
_SID = re.compile(r"^[0-9A-Za-z]*$")
SYNTAX = "Syntax errors in policy."


def parse_policy(text: str, kind: PolicyKind = "identity") -> Policy:
    """Validate and compile; raise :class:`PolicySyntaxError` with IAM's message if invalid."""
    return _compile(text, kind)


def compile_policy(text: str, kind: PolicyKind = "identity") -> Policy:
    """Same as :func:`parse_policy`; named for the hot path, where the text was validated when it
    was stored and the cache answers."""
    return _compile(text, kind)


@lru_cache(maxsize=POLICY_CACHE)
def _compile(text: str, kind: PolicyKind) -> Policy:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise PolicySyntaxError("This policy contains invalid Json") from None
    if not isinstance(document, dict) or not set(document) <= _TOP_KEYS:
        raise PolicySyntaxError(SYNTAX)
    version = document.get("Version", VERSION_LEGACY)
    if version not in (VERSION_CURRENT, VERSION_LEGACY):
        raise PolicySyntaxError("The policy failed legacy parsing")
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    if raw is None or not items or not all(isinstance(item, dict) for item in items):
        raise PolicySyntaxError(SYNTAX)
    variables = version == VERSION_CURRENT
    statements = tuple(_statement(index, item, kind, variables) for index, item in enumerate(items))
    sids = [statement.sid for statement in statements if statement.sid]
    if len(sids) != len(set(sids)):
        raise PolicySyntaxError("Statement IDs (SID) in a single policy must be unique.")
    return Policy(version, statements, text, static=all(_static(statement) for statement in statements))


def _static(statement: Statement) -> bool:
    return not statement.conditions and all(template.is_literal for template in statement.resources or ())


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise PolicySyntaxError(SYNTAX)
    return items


def _statement(index: int, item: dict[str, Any], kind: PolicyKind, variables: bool) -> Statement:
    if not set(item) <= _STATEMENT_KEYS:
        raise PolicySyntaxError(SYNTAX)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicySyntaxError(SYNTAX)
    if kind == "identity" and sid and not _SID.match(sid):
        raise PolicySyntaxError(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
            "expression [0-9A-Za-z]*"
        )
    effect_text = item.get("Effect")
    if effect_text not in ("Allow", "Deny"):
        raise PolicySyntaxError(SYNTAX if effect_text is None else f"Invalid effect: {effect_text}")
    effect = Effect(effect_text)
    actions, not_actions = _actions(item)
    resources, not_resources = _resources(item, kind, variables)
    principal_key = "Principal" if "Principal" in item else "NotPrincipal" if "NotPrincipal" in item else None
    if kind == "identity" and principal_key is not None:
        raise PolicySyntaxError("Policy document should not specify a principal.")
    if kind != "identity" and principal_key is None:
        raise PolicySyntaxError("Missing required field Principal")
    if "Principal" in item and "NotPrincipal" in item:
        raise PolicySyntaxError(SYNTAX)
    principals = compile_principal(item[principal_key]) if principal_key else None
    conditions = compile_conditions(item["Condition"], variables) if "Condition" in item else ()
    return Statement(
        index=index,
        sid=sid or None,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=principal_key == "NotPrincipal",
        conditions=conditions,
    )


def _actions(item: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    if "Action" in item and "NotAction" in item:
        raise PolicySyntaxError(SYNTAX)
    key = "Action" if "Action" in item else "NotAction" if "NotAction" in item else None
    if key is None:
        raise PolicySyntaxError("Policy statement must contain actions.")
    actions = _strings(item[key])
    for action in actions:
        if action == "*":
            continue
        vendor, colon, name = action.partition(":")
        if not colon or not name:
            raise PolicySyntaxError(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
            )
        if not _VENDOR.match(vendor):
            raise PolicySyntaxError(f"Vendor {vendor} is not valid")
    return tuple(actions), key == "NotAction"


def _resources(item: dict[str, Any], kind: PolicyKind, variables: bool) -> tuple[Any, bool]:
    if "Resource" in item and "NotResource" in item:
        raise PolicySyntaxError(SYNTAX)
    key = "Resource" if "Resource" in item else "NotResource" if "NotResource" in item else None
    if kind == "trust":
        if key is not None:
            raise PolicySyntaxError(f"Has prohibited field {key}")
        return None, False
    if key is None:
        raise PolicySyntaxError("Policy statement must contain resources.")
    resources = _strings(item[key])
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise PolicySyntaxError(f'Resource {resource} must be in ARN format or "*".')
    return tuple(compile_template(resource, variables) for resource in resources), key == "NotResource"
