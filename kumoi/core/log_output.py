"""Log lines written to a stream in batches, by a thread of their own.

A server logs a line per request (``kumoi.access``); written as ``logging.StreamHandler`` does,
each line is a ``write`` system call on the event loop thread. :class:`BatchedStreamHandler`
formats a record where it is logged (so the line says what was true then) but only appends it to
a buffer; its thread writes what gathered in one call, :data:`GATHER_S` after the first line of a
batch. The loop never waits for the stream, unless :data:`MAX_PENDING` bytes are waiting, when
the line's writer writes them itself: a stream that does not keep up slows the server as an
unbuffered one would, and memory stays bounded.

What is lost: a ``kill -9`` takes the last :data:`GATHER_S` of lines with it. A clean stop writes
everything (``logging.shutdown`` closes the handler at exit).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

#: How long the writer thread waits after the first line of a batch before writing it.
GATHER_S = 0.05
#: Bytes of lines that may wait; beyond it, the thread that logs writes them itself.
MAX_PENDING = 1 << 20
#: What :meth:`logging.Handler.handleError` is shown when the stream refuses a batch.
_WRITE_FAILED = logging.makeLogRecord(
    {"msg": "writing a batch of log lines failed", "levelno": logging.ERROR}
)


class BatchedStreamHandler(logging.Handler):
    """A ``StreamHandler`` that writes from a thread of its own, many lines at a time."""

    terminator = "\n"

    def __init__(
        self, stream: TextIO | None = None, gather_s: float = GATHER_S, max_pending: int = MAX_PENDING
    ) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self._gather_s = gather_s
        self._max_pending = max_pending
        self._pending: list[str] = []
        self._pending_size = 0
        self._closing = False
        #: Guards the pending lines; the writer thread waits on it for the first one.
        self._has_lines = threading.Condition(threading.Lock())
        #: Held while writing, so batches reach the stream in the order they were taken.
        self._writing = threading.Lock()
        self._writer = threading.Thread(target=self._write_batches, name="kumoi-log", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self.write_line(line)

    def write_line(self, line: str) -> None:
        """Queue ``line`` (formatted, with its terminator) as :meth:`emit` queues a record's."""
        with self._has_lines:
            self._pending.append(line)
            self._pending_size += len(line)
            if len(self._pending) == 1:
                self._has_lines.notify()
            overflowing = self._pending_size >= self._max_pending
        if overflowing:
            self.flush()

    def flush(self) -> None:
        """Write every line logged so far, on the calling thread."""
        with self._writing:
            with self._has_lines:
                lines, self._pending, self._pending_size = self._pending, [], 0
            if not lines:
                return
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except Exception:  # a closed or broken stream: as StreamHandler, report and go on
                self.handleError(_WRITE_FAILED)

    def close(self) -> None:
        with self._has_lines:
            self._closing = True
            self._has_lines.notify()
        if self._writer is not threading.current_thread():
            self._writer.join(timeout=5)
        self.flush()
        super().close()

    def _write_batches(self) -> None:
        while True:
            with self._has_lines:
                while not self._pending and not self._closing:
                    self._has_lines.wait()
                if self._closing:
                    return
            time.sleep(self._gather_s)
            self.flush()
