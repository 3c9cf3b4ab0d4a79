"""Identifiers, ARNs and the input rules IAM applies to names and paths.

IAM's unique ids are 21 characters: a four-letter prefix naming the kind of entity (``AIDA`` user,
``AGPA`` group, ``AROA`` role, ``ANPA`` managed policy, ``AIPA`` instance profile) and
upper-case base32 characters.
"""

from __future__ import annotations

import re
import secrets
import string

from kumoi.services.iam import api

USER_PREFIX = "AIDA"
GROUP_PREFIX = "AGPA"
ROLE_PREFIX = "AROA"
POLICY_PREFIX = "ANPA"
PROFILE_PREFIX = "AIPA"
ID_LENGTH = 21

#: Name limits (IAM API reference: userNameType, groupNameType, roleNameType, policyNameType ...).
USER_NAME_MAX = 64
GROUP_NAME_MAX = 128
ROLE_NAME_MAX = 64
POLICY_NAME_MAX = 128
PROFILE_NAME_MAX = 128
PATH_MAX = 512
DESCRIPTION_MAX = 1000

_ALPHABET = string.ascii_uppercase + "234567"
_NAME = re.compile(r"^[\w+=,.@-]+$")
_PATH = re.compile(r"^(/|/[\x21-\x7e]+/)$")


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH - len(prefix)))


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def validation_error(value: str, member: str, constraint: str) -> api.IamError:
    return api.IamError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"{constraint}",
        code="ValidationError",
        status=400,
    )


def check_name(value: str, member: str, maximum: int) -> str:
    if not 1 <= len(value) <= maximum:
        raise validation_error(value, member, f"Member must have length less than or equal to {maximum}")
    if not _NAME.match(value):
        raise validation_error(value, member, r"Member must satisfy regular expression pattern: [\w+=,.@-]+")
    return value


def check_path(value: str | None, member: str = "path") -> str:
    if value is None:
        return "/"
    if len(value) > PATH_MAX or not _PATH.match(value):
        raise validation_error(
            value,
            member,
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007F]+\u002F)",
        )
    return value


def check_path_prefix(value: str | None) -> str:
    if value is None:
        return "/"
    if not value.startswith("/") or len(value) > PATH_MAX:
        raise validation_error(
            value, "pathPrefix", r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*"
        )
    return value
