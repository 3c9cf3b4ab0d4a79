"""Bucket policy documents: S3's validation (with S3's ``MalformedPolicy`` messages) and AWS's
rules for when a policy is *public*.

Validation runs S3's own structural checks first, in the order S3 reports them (the document's
first byte, JSON, unknown fields, ``Statement``, then per statement ``Effect``, ``Principal``,
``Action``, ``Resource`` and whether the actions apply to the resources), then compiles the
document with the IAM policy parser as a resource policy, which checks the rest (conditions,
version, statement ids) and is what the authorizer evaluates later.

"Public" follows the S3 User Guide ("The meaning of public"): a policy is public when an ``Allow``
statement grants to everyone (``"*"``, ``{"AWS": "*"}``, a wildcard principal or
``NotPrincipal``) without a condition that pins access to fixed values of one of the narrowing
keys: ``aws:SourceIp`` (a CIDR at least /8 for IPv4, /32 for IPv6), ``aws:SourceArn``,
``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceOwner``, ``aws:SourceAccount``,
``aws:PrincipalOrgID``, ``aws:userid`` (a fixed id, or ``AROLEID:*``), ``s3:DataAccessPointArn``,
``s3:DataAccessPointAccount`` or ``s3:x-amz-server-side-encryption-aws-kms-key-id``. A value is
fixed when it has no wildcard and no policy variable; only positive operators
(``StringEquals``, ``ArnLike``, ``IpAddress``, ...; not negated, not ``...IfExists``, not
``ForAllValues:``) narrow, because the others also match a request that lacks the key.
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from typing import Any

from kumoi.auth.policy import PolicySyntaxError, parse_policy
from kumoi.auth.policy.glob import glob_match
from kumoi.core.errors import ServiceError
from kumoi.services.s3.policy_actions import BUCKET, OBJECT, resource_types

#: Largest bucket policy S3 stores, counted without insignificant whitespace.
MAX_POLICY_BYTES = 20 * 1024

_TOP_FIELDS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_S3_ARN = "arn:aws:s3:::"
_PRINCIPAL_KINDS = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_ACCOUNT = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):.+$")
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")

#: Condition keys (lower-cased) whose fixed values make a grant to everyone non-public.
_NARROWING_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:principalorgid",
        "aws:userid",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
_SOURCE_IP = "aws:sourceip"
#: Operators that only match when the request carries the key with one of the policy's values.
_POSITIVE_OPERATORS = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}
)
_ROLE_SESSIONS = re.compile(r"^AROA[A-Z0-9]+:\*$")
#: Narrowest CIDR prefix (per IP version) still counted as a fixed set of addresses.
_MIN_PREFIX = {4: 8, 6: 32}


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, status=400)


def validate(text: str, bucket: str) -> dict[str, Any]:
    """The parsed document, or :class:`ServiceError` as S3 answers an invalid bucket policy."""
    if not text.startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(document, dict):
        raise malformed("This policy contains invalid Json")
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    if len(compact) > MAX_POLICY_BYTES:
        raise ServiceError("PolicyTooLarge", "Policy exceeds the maximum allowed document size.", status=400)
    _unknown(document, _TOP_FIELDS)
    if "Statement" not in document:
        raise malformed("Missing required field Statement")
    raw = document["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    if not statements:
        raise malformed("Could not parse the policy: Statement is empty!")
    for statement in statements:
        if not isinstance(statement, dict):
            raise malformed("This policy contains invalid Json")
        _statement(statement, bucket)
    try:
        parse_policy(text, "resource")
    except PolicySyntaxError as error:
        raise malformed(error.message) from None
    return document


def _unknown(item: dict[str, Any], allowed: frozenset[str]) -> None:
    for name in item:
        if name not in allowed:
            raise malformed(f"Unknown field {name}")


def _statement(statement: dict[str, Any], bucket: str) -> None:
    _unknown(statement, _STATEMENT_FIELDS)
    effect = statement.get("Effect")
    if effect is None:
        raise malformed("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect: {effect}")
    principal_key = _present(statement, "Principal")
    if principal_key is None:
        raise malformed("Missing required field Principal")
    _principal(statement[principal_key])
    action_key = _present(statement, "Action")
    if action_key is None:
        raise malformed("Missing required field Action")
    actions = _strings(statement[action_key], "Policy has invalid action")
    kinds_of = [resource_types(action) for action in actions]
    if any(kinds is None for kinds in kinds_of):
        raise malformed("Policy has invalid action")
    resource_key = _present(statement, "Resource")
    if resource_key is None:
        raise malformed("Missing required field Resource")
    resources = _strings(statement[resource_key], "Policy has invalid resource")
    offered = frozenset().union(*(_resource(resource, bucket) for resource in resources))
    if action_key == "Action" and resource_key == "Resource":
        for kinds in kinds_of:
            if not kinds or not kinds & offered:
                raise malformed("Action does not apply to any resource(s) in statement")


def _present(statement: dict[str, Any], name: str) -> str | None:
    if name in statement and f"Not{name}" in statement:
        raise malformed(f"Statement/policy already has instance of {name}")
    if name in statement:
        return name
    return f"Not{name}" if f"Not{name}" in statement else None


def _strings(value: Any, message: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise malformed(message)
    return items


def _principal(value: Any) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value or not set(value) <= _PRINCIPAL_KINDS:
        raise malformed("Invalid principal in policy")
    for kind, entries in value.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, str) or not _valid_principal(kind, entry):
                raise malformed("Invalid principal in policy")


def _valid_principal(kind: str, entry: str) -> bool:
    if kind == "AWS":
        return entry == "*" or bool(_ACCOUNT.match(entry) or _IAM_ARN.match(entry))
    if kind == "CanonicalUser":
        return entry == "*" or bool(_CANONICAL_ID.match(entry))
    if kind == "Service":
        return entry == "*" or bool(_SERVICE.match(entry))
    return bool(entry)


def _resource(resource: str, bucket: str) -> frozenset[str]:
    """The resource types an S3 ARN of this bucket names; S3 refuses any other resource."""
    if not resource.startswith(_S3_ARN):
        raise malformed("Policy has invalid resource")
    path = resource[len(_S3_ARN) :]
    name, slash, _ = path.partition("/")
    if not name or not glob_match(name, bucket):
        raise malformed("Policy has invalid resource")
    if slash:
        return frozenset({OBJECT})
    if "*" in path:
        return frozenset({BUCKET, OBJECT})
    return frozenset({BUCKET})


# --- public policies -----------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def is_public(text: str) -> bool:
    """Whether the (valid) bucket policy ``text`` grants public access, by S3's rules."""
    document = json.loads(text)
    raw = document.get("Statement")
    statements = raw if isinstance(raw, list) else [raw]
    return any(isinstance(item, dict) and statement_is_public(item) for item in statements)


def statement_is_public(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not grants_everyone(statement):
        return False
    return not _narrowed(statement.get("Condition"))


def grants_everyone(statement: dict[str, Any]) -> bool:
    """The statement's principal includes anyone (``NotPrincipal`` always does)."""
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entries in principal.values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, str) and not _fixed(entry):
                return True
    return False


def _fixed(value: str) -> bool:
    return "*" not in value and "?" not in value and "${" not in value


def _narrowed(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    for operator, keys in block.items():
        if not isinstance(operator, str) or not isinstance(keys, dict):
            continue
        base = operator.removeprefix("ForAnyValue:")
        if base not in _POSITIVE_OPERATORS:
            continue
        for key, raw in keys.items():
            values = raw if isinstance(raw, list) else [raw]
            if values and _narrowing(str(key).lower(), [str(value) for value in values]):
                return True
    return False


def _narrowing(key: str, values: list[str]) -> bool:
    if key == _SOURCE_IP:
        return all(_narrow_cidr(value) for value in values)
    if key == "aws:userid":
        return all(_fixed(value) or _ROLE_SESSIONS.match(value) for value in values)
    return key in _NARROWING_KEYS and all(_fixed(value) for value in values)


def _narrow_cidr(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen >= _MIN_PREFIX[network.version]
