"""AddPermission / RemovePermission: statements in the queue's ``Policy``, one per label.

AddPermission writes the statement AWS writes (``Sid`` = label, the accounts' root principals,
``SQS:<Action>`` actions, the queue's ARN as resource); RemovePermission deletes the statement of
that label. The policy is an ordinary ``Policy`` attribute, so SetQueueAttributes and
GetQueueAttributes see the same document.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.sqs import limits

#: Actions a queue owner may share (AWS refuses the queue-management ones).
SHAREABLE_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ACCOUNT = re.compile(r"^\d{12}$")


def _invalid(name: str, value: str, reason: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}"
    )


def _statements(policy: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    document: dict[str, Any] = json.loads(policy) if policy else {}
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return document, list(statements)


def add_permission(policy: str, queue_arn: str, label: str, accounts: list[str], actions: list[str]) -> str:
    """The ``Policy`` with a statement for ``label`` added."""
    if not _LABEL.match(label):
        raise _invalid(
            "Label",
            label,
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.",
        )
    if not accounts:
        raise ServiceError("MissingParameter", "The request must contain the parameter AWSAccountIds.")
    if not actions:
        raise ServiceError("MissingParameter", "The request must contain the parameter Actions.")
    if len(actions) > limits.MAX_PERMISSION_ACTIONS:
        raise ServiceError(
            "OverLimit",
            f"{len(actions)} Actions were found, maximum allowed is {limits.MAX_PERMISSION_ACTIONS}.",
        )
    for action in actions:
        if action not in SHAREABLE_ACTIONS:
            raise _invalid(
                "ActionName", action, "Please refer to the appropriate WSDL for a list of valid actions."
            )
    for account in accounts:
        if not _ACCOUNT.match(account):
            raise _invalid("AWSAccountIds", account, "Must be a 12-digit AWS account ID.")
    document, statements = _statements(policy)
    if any(statement.get("Sid") == label for statement in statements):
        raise _invalid("Label", label, "Already exists.")
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    statements.append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": [f"SQS:{action}" for action in actions],
            "Resource": queue_arn,
        }
    )
    document.setdefault("Version", "2012-10-17")
    document.setdefault("Id", f"{queue_arn}/SQSDefaultPolicy")
    document["Statement"] = statements
    return json.dumps(document, separators=(",", ":"))


def remove_permission(policy: str, label: str) -> str:
    """The ``Policy`` without ``label``'s statement ("" when no statement is left)."""
    document, statements = _statements(policy)
    kept = [statement for statement in statements if statement.get("Sid") != label]
    if len(kept) == len(statements):
        raise _invalid("Label", label, "can't find label.")
    if not kept:
        return ""
    document["Statement"] = kept
    return json.dumps(document, separators=(",", ":"))
