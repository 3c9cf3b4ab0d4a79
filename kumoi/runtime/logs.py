"""How the ``kumoi serve`` process logs: to stderr, in batches written off the event loop."""

from __future__ import annotations

import logging

from kumoi.core.log_output import BatchedStreamHandler
from kumoi.server import access_log


def configure(level: str) -> None:
    """Log ``level`` and up to stderr, as :data:`~kumoi.server.access_log.LOG_FORMAT` lines.

    Records skip what that format does not show (the caller's file and line, its thread and
    process), as the logging HOWTO's "Optimization" section describes: ``findCaller`` walks the
    stack for every record otherwise. Access lines go straight to the handler when they are
    logged at all."""
    logging._srcfile = None  # documented in the logging HOWTO
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = BatchedStreamHandler()
    handler.setFormatter(logging.Formatter(access_log.LOG_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    access_log.direct_to(handler if access_log.access_log.isEnabledFor(logging.INFO) else None)
