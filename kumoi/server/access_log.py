"""The access log: one line per request, as the ``kumoi.access`` logger at level INFO.

A record through :mod:`logging` costs the event loop tens of microseconds in a busy server
(the record's fields, handler lookups and locks, the formatter): a third more than the rest of a
small GET costs. So where the process's logging was set up by :func:`direct_to` (``kumoi serve``
does it), a line is formatted here, exactly as :data:`LOG_FORMAT` would format its record, and
handed to the batched handler at once. Anywhere else (kumoi embedded in a test process, say)
lines go through ``logging`` as any other record, and obey its configuration.
"""

from __future__ import annotations

import logging
import time

from kumoi.core.log_output import BatchedStreamHandler

#: The format of every line of ``kumoi serve``'s log.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The message of an access line, as ``%`` formats it for the logger.
_MESSAGE = "%s %s %s %s %d %.1fms %s"

access_log = logging.getLogger("kumoi.access")


class _Direct:
    """Formats access lines as :data:`LOG_FORMAT` does, the timestamp's seconds once a second."""

    __slots__ = ("_handler", "_second", "_stamp")

    def __init__(self, handler: BatchedStreamHandler) -> None:
        self._handler = handler
        self._second = -1
        self._stamp = ""

    def write(self, when: float, fields: tuple[str, str, str, str, int, float, str]) -> None:
        second = int(when)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        remote, method, service, operation, status, elapsed_ms, request_id = fields
        self._handler.write_line(
            f"{self._stamp},{int((when - second) * 1000):03d} INFO kumoi.access: {remote} {method} {service} "
            f"{operation} {status:d} {elapsed_ms:.1f}ms {request_id}\n"
        )


_direct: _Direct | None = None


def direct_to(handler: BatchedStreamHandler | None) -> None:
    """Send access lines straight to ``handler`` (which logs with :data:`LOG_FORMAT` at INFO),
    or, with ``None``, through :mod:`logging` again."""
    global _direct
    _direct = None if handler is None else _Direct(handler)


def enabled() -> bool:
    """Whether :func:`log_request` writes anything (so a caller can skip gathering its fields)."""
    return _direct is not None or access_log.isEnabledFor(logging.INFO)


def log_request(
    remote: str, method: str, service: str, operation: str, status: int, elapsed_ms: float, request_id: str
) -> None:
    """Log one request's line."""
    direct = _direct
    if direct is not None:
        direct.write(time.time(), (remote, method, service, operation, status, elapsed_ms, request_id))
    elif access_log.isEnabledFor(logging.INFO):
        access_log.info(_MESSAGE, remote, method, service, operation, status, elapsed_ms, request_id)
