"""What hangs off an IAM user besides keys and policies: login profile, MFA devices, SSH public
keys, signing certificates and service-specific credentials.

These documents name their user by ``UserId`` (not by name), so renaming a user keeps them, and
a user must be rid of all of them before DeleteUser succeeds, as in AWS.
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.directory import Doc, IamDirectory

LOGIN_PROFILE = "loginprofile"
MFA_DEVICE = "mfa"
SSH_KEY = "sshkey"
SIGNING_CERT = "signingcert"
SERVICE_CREDENTIAL = "servicecred"

#: Kind → DeleteConflict message (AWS's wording), in the order DeleteUser checks them.
_REFERENCED = "Cannot delete entity, must remove referenced objects first."
_CONFLICTS = (
    (LOGIN_PROFILE, "Cannot delete entity, must delete login profile first."),
    (MFA_DEVICE, "Cannot delete entity, must delete MFA device first."),
    (SIGNING_CERT, "Cannot delete entity, must delete certificates first."),
    (SSH_KEY, _REFERENCED),
    (SERVICE_CREDENTIAL, _REFERENCED),
)


def owned_by(directory: IamDirectory, account: str, kind: str, user_id: str) -> list[Doc]:
    return [doc for doc in directory.all(account, kind).values() if doc.get("UserId") == user_id]


def check_user_deletable(directory: IamDirectory, account: str, user: Doc) -> None:
    """Raise DeleteConflict if ``user`` still has any of these credentials."""
    for kind, message in _CONFLICTS:
        if owned_by(directory, account, kind, user["UserId"]):
            raise api.DeleteConflictException(message)


def user_name_of(ctx: RequestContext, request: dict[str, Any]) -> str:
    """``UserName`` if given, else the calling IAM user's name (ValidationError otherwise)."""
    name = request.get("UserName")
    if name:
        return str(name)
    if ":user/" in ctx.caller.arn:
        return ctx.caller.arn.rsplit("/", 1)[-1]
    raise api.IamError(
        "Must specify userName when calling with non-User credentials", code="ValidationError", status=400
    )
