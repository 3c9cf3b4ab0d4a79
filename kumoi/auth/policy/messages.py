"""AWS's words for a denial: "User: arn:... is not authorized to perform: s3:GetObject on
resource: arn:... because no identity-based policy allows the s3:GetObject action"."""

from __future__ import annotations

from kumoi.auth.policy.evaluate import BOUNDARY, EXPLICIT_DENY, IDENTITY, RESOURCE, SESSION
from kumoi.auth.policy.model import AccessRequest, Decision

_EXPLICIT = {
    IDENTITY: "with an explicit deny in an identity-based policy",
    RESOURCE: "with an explicit deny in a resource-based policy",
    BOUNDARY: "with an explicit deny in a permissions boundary",
    SESSION: "with an explicit deny in a session policy",
}
_IMPLICIT = {
    IDENTITY: "because no identity-based policy allows the {action} action",
    RESOURCE: "because no resource-based policy allows the {action} action",
    BOUNDARY: "because no permissions boundary allows the {action} action",
    SESSION: "because no session policy allows the {action} action",
}


def denial_message(request: AccessRequest, decision: Decision) -> str:
    principal = request.principal
    who = "Anonymous user" if principal.is_anonymous else f"User: {principal.arn}"
    if principal.is_service:
        who = f"Service: {principal.arn}"
    table = _EXPLICIT if decision.decision == EXPLICIT_DENY else _IMPLICIT
    because = table.get(decision.reason, table[IDENTITY]).format(action=request.action)
    return f"{who} is not authorized to perform: {request.action} on resource: {request.resource} {because}"
