"""Who is calling, and where: what a provider needs to know about a request besides its input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Caller:
    """The authenticated principal of a request."""

    account_id: str
    arn: str
    user_id: str
    access_key_id: str
    session_token: str | None = None
    is_root: bool = True


@dataclass(slots=True)
class RequestContext:
    """Per-request facts for providers. ``base_url`` is the scheme and host the client used
    (``http://localhost:4566``), for building URLs that point back at kumoi (SQS queue URLs).

    ``foreign_granted`` and ``foreign_check`` carry the authorizer's answer to "may this request
    act on a resource another account owns?" (for an anonymous caller: any resource). Only a
    resource policy (a bucket policy...) can grant that; the authorizer sets ``foreign_granted``
    when it has found that one does, or leaves ``foreign_check`` for the provider to run when it
    meets such a resource (S3 learns a bucket's owner only by reading the bucket). Providers ask
    :meth:`foreign_access`, and only for resources they found another account owns, so requests
    within one account never pay for it."""

    request_id: str
    service: str
    operation: str
    region: str
    caller: Caller
    base_url: str
    host: str
    remote_addr: str = "127.0.0.1"
    extra: dict[str, str] = field(default_factory=dict)
    foreign_granted: bool = False
    foreign_check: Callable[[], Awaitable[None]] | None = None

    @property
    def account_id(self) -> str:
        return self.caller.account_id

    async def foreign_access(self) -> bool:
        """May this request act on a resource another account owns? Runs the check the authorizer
        left for this moment, which raises ``AccessDenied`` unless a resource policy allows it."""
        if not self.foreign_granted and self.foreign_check is not None:
            check, self.foreign_check = self.foreign_check, None
            await check()
        return self.foreign_granted
