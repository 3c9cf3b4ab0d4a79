"""Issuing temporary credentials: ``ASIA…`` keys with a session token, stored as session documents.

A session document records who the session is (role session, IAM user via GetSessionToken,
federated user) and what narrows it (session policies, policy ARNs, session tags, source
identity), so the authorizer can rebuild its permissions; it expires with the credentials.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kumoi.auth.credentials import (
    TEMPORARY_PREFIX,
    new_access_key_id,
    new_secret_access_key,
    new_session_token,
)
from kumoi.auth.policy import PolicySyntaxError, parse_policy
from kumoi.services.sts import api
from kumoi.services.sts.identities import Doc

SESSION = "session"
#: Session policy limits: plain-text policy characters, policy ARNs, session tags.
SESSION_POLICY_MAX = 2048
POLICY_ARNS_MAX = 10
SESSION_TAGS_MAX = 50
#: The packed (compressed) size AWS reports as PackedPolicySize is a percentage of this.
PACKED_POLICY_BUDGET = 2048
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/.+$")


def validation_error(value: object, member: str, constraint: str) -> api.StsError:
    return api.StsError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"{constraint}",
        code="ValidationError",
        status=400,
    )


def check_session_name(name: str, member: str = "roleSessionName") -> str:
    if not _SESSION_NAME.match(name):
        raise validation_error(name, member, r"Member must satisfy regular expression pattern: [\w+=,.@-]*")
    return name


def check_duration(
    value: int | None, default: int, minimum: int, maximum: int, message: str | None = None
) -> int:
    if value is None:
        return min(default, maximum)
    if value < minimum:
        raise validation_error(
            value, "durationSeconds", f"Member must have value greater than or equal to {minimum}"
        )
    if value > maximum:
        raise api.StsError(
            message or f"The requested DurationSeconds exceeds the maximum of {maximum} seconds.",
            code="ValidationError",
            status=400,
        )
    return value


def session_policies(request: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """The session policy text and ARNs, validated; and AWS's PackedPolicySize percentage."""
    texts: list[str] = []
    policy = request.get("Policy")
    if policy is not None:
        if len(policy) > SESSION_POLICY_MAX:
            raise validation_error(
                "...", "policy", f"Member must have length less than or equal to {SESSION_POLICY_MAX}"
            )
        try:
            parse_policy(policy, "identity")
        except PolicySyntaxError as exc:
            raise api.MalformedPolicyDocumentException(exc.message) from None
        texts.append(policy)
    arns = [str(item.get("arn", "")) for item in request.get("PolicyArns") or ()]
    if len(arns) > POLICY_ARNS_MAX:
        raise validation_error(
            "...", "policyArns", f"Member must have length less than or equal to {POLICY_ARNS_MAX}"
        )
    for arn in arns:
        if not _POLICY_ARN.match(arn):
            raise api.StsError(f"{arn} is invalid", code="ValidationError", status=400)
    tags = request.get("Tags") or ()
    packed = len("".join(texts).replace(" ", "").replace("\n", "")) + 40 * len(arns) + 30 * len(tags)
    percent = packed * 100 // PACKED_POLICY_BUDGET
    if percent > 100:
        raise api.PackedPolicyTooLargeException(
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy for assume role."
        )
    return texts, arns, percent


def check_tags(tags: Sequence[dict[str, str]] | None) -> list[dict[str, str]]:
    result = [{"Key": tag["Key"], "Value": tag.get("Value", "")} for tag in tags or ()]
    if len(result) > SESSION_TAGS_MAX:
        raise validation_error(
            "...", "tags", f"Member must have length less than or equal to {SESSION_TAGS_MAX}"
        )
    if len({tag["Key"].lower() for tag in result}) != len(result):
        raise api.StsError(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            code="InvalidParameterValue",
            status=400,
        )
    return result


def new_session(now: float, duration: int, **fields: Any) -> Doc:
    """A session document with fresh credentials valid for ``duration`` seconds from ``now``."""
    return {
        "AccessKeyId": new_access_key_id(TEMPORARY_PREFIX),
        "SecretAccessKey": new_secret_access_key(),
        "SessionToken": new_session_token(),
        "ExpiresAt": now + duration,
        "IssuedAt": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }


def credentials_out(session: Doc) -> Doc:
    return {
        "AccessKeyId": session["AccessKeyId"],
        "SecretAccessKey": session["SecretAccessKey"],
        "SessionToken": session["SessionToken"],
        "Expiration": session["ExpiresAt"],
    }


def tag_context(tags: Sequence[dict[str, str]]) -> dict[str, list[str]]:
    if not tags:
        return {}
    context = {"aws:requesttag/" + tag["Key"].lower(): [tag["Value"]] for tag in tags}
    context["aws:tagkeys"] = [tag["Key"] for tag in tags]
    return context
