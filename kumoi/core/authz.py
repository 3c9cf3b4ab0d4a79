"""The authorization hook: may this caller perform this operation with these parameters?

The server calls the configured :class:`Authorizer` after a request is authenticated and decoded,
before the provider runs. The IAM policy engine implements it; with enforcement off, only the
default checks run (anonymous requests are refused unless a service's resource policy allows them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kumoi.core.context import RequestContext


class Authorizer(Protocol):
    async def authorize(self, context: RequestContext, params: Mapping[str, Any]) -> None:
        """Return if allowed; raise a :class:`~kumoi.core.errors.ServiceError` (AccessDenied) if not.
        ``context.service`` and ``context.operation`` name the call; ``context.caller`` is
        anonymous (``account_id == ""``) for unsigned requests, which must be denied unless a
        resource policy allows them. Operations a service lists as ``anonymous_operations``
        (they carry their own proof, like S3's signed POST policy) never reach the authorizer."""
        ...
