"""Who is calling, and where: what a provider needs to know about a request besides its input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


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
    within one account never pay for it.

    ``absence_check`` is left by the authorizer where it evaluated the request: may the caller
    learn that something in the container it names (an S3 bucket) does not exist? S3 answers a
    read of a missing key with ``NoSuchKey`` only to callers allowed to list the bucket, and
    ``AccessDenied`` to the rest. Providers ask :meth:`may_learn_absence` only once a resource
    turns out to be missing; where nothing evaluated the request it is always yes."""

    request_id: str
    service: str
    operation: str
    region: str
    caller: Caller
    base_url: str
    host: str
    remote_addr: str = "127.0.0.1"
    #: The request's members as decoded (what the operation receives), for checks made where a
    #: resource is met rather than where the request is read: S3 checks the bucket owner
    #: condition (``ExpectedBucketOwner``) where it reads the bucket.
    params: Mapping[str, Any] = field(default_factory=dict)
    foreign_granted: bool = False
    foreign_check: Callable[[], Awaitable[None]] | None = None
    absence_check: Callable[[str], Awaitable[bool]] | None = None

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

    async def may_learn_absence(self, container: str) -> bool:
        """May the caller learn that something in ``container`` (an S3 bucket's name) does not
        exist? Runs the check the authorizer left, if it left one."""
        return self.absence_check is None or await self.absence_check(container)
