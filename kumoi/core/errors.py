"""The one error type every layer raises for an answer the client should see.

Providers raise :class:`ServiceError` with the *modelled* error code (the shape name in the
service model, e.g. ``NoSuchBucket`` or ``QueueDoesNotExist``); each protocol serializer turns it
into its wire format (and maps legacy query codes where the model says so). Anything else that
escapes a request is a bug: the server answers 500 ``InternalError`` and logs the traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class ServiceError(Exception):
    """An AWS error response: ``code``, HTTP ``status``, ``message``, and whether the sender is at fault.

    ``fields`` are extra members rendered into the error body (S3's ``<BucketName>``,
    ``<Key>``, ...); ``headers`` are extra response headers.
    """

    code: str
    message: str = ""
    status: int = 400
    sender_fault: bool = True
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")


class AuthFailure(ServiceError):
    """An authentication failure. ``kind`` names it independently of the protocol so that each
    protocol family can answer with its own code (S3 ``InvalidAccessKeyId`` vs query/json
    ``InvalidClientTokenId``); see ``kumoi.auth.errors``."""

    def __init__(self, kind: str, message: str, status: int = 403, **fields: str) -> None:
        super().__init__(code=kind, message=message, status=status, fields=dict(fields))
        self.kind = kind


def internal_error(request_id: str) -> ServiceError:
    return ServiceError(
        code="InternalError",
        message=f"We encountered an internal error. Please try again. (request id {request_id})",
        status=500,
        sender_fault=False,
    )


class ModelledError(ServiceError):
    """Base of the errors generated from a service model (``services/<svc>/api.py``).

    Each subclass carries the model's ``code``, ``status`` and ``sender_fault`` as class defaults;
    raise one as ``Subclass("message", fields={...})`` and pass a keyword to override a default
    for one instance.
    """

    def __init__(
        self,
        message: str = "",
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        code: str | None = None,
        sender_fault: bool | None = None,
    ) -> None:
        super().__init__(
            code=self.code if code is None else code,
            message=message,
            status=self.status if status is None else status,
            sender_fault=self.sender_fault if sender_fault is None else sender_fault,
            fields={} if fields is None else fields,
            headers={} if headers is None else headers,
        )


def not_implemented(service: str, operation: str) -> ServiceError:
    """AWS-style 501 for an operation the model has and kumoi does not implement yet."""
    return ServiceError(
        code="NotImplemented",
        message=f"The {service} operation {operation} is not implemented by kumoi yet.",
        status=501,
        sender_fault=False,
    )
