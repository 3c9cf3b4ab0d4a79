"""Shared helpers for the policy-engine tests: principals, documents, requests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.auth.policy import AccessRequest, Policy, Principal, compile_policy

ACCOUNT = "111111111111"
OTHER = "222222222222"
ALICE_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
ALICE = Principal(ALICE_ARN, ACCOUNT, "user", frozenset({ALICE_ARN}))
ROOT = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "root", frozenset({f"arn:aws:iam::{ACCOUNT}:root"}))
STRANGER_ARN = f"arn:aws:iam::{OTHER}:user/bob"
STRANGER = Principal(STRANGER_ARN, OTHER, "user", frozenset({STRANGER_ARN}))
ANONYMOUS = Principal("", "", "anonymous")


def doc(*statements: Mapping[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action: str | Sequence[str], resource: str | Sequence[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | Sequence[str], resource: str | Sequence[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def identity(*statements: Mapping[str, Any]) -> Policy:
    return compile_policy(doc(*statements), "identity").named("identity", "user")


def resource_policy(*statements: Mapping[str, Any]) -> Policy:
    return compile_policy(doc(*statements), "resource").named("bucket policy", "resource")


def request(
    action: str,
    resource: str,
    principal: Principal = ALICE,
    context: Mapping[str, Sequence[str]] | None = None,
    owner: str = "",
) -> AccessRequest:
    return AccessRequest(action, resource, principal, dict(context or {}), owner)
