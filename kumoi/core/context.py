"""Who is calling, and where: what a provider needs to know about a request besides its input."""

from __future__ import annotations

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
    (``http://localhost:4566``), for building URLs that point back at kumoi (SQS queue URLs)."""

    request_id: str
    service: str
    operation: str
    region: str
    caller: Caller
    base_url: str
    host: str
    remote_addr: str = "127.0.0.1"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.caller.account_id
