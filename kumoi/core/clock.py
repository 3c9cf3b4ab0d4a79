"""Time as kumoi sees it.

Every rule that depends on time (SigV4 skew, presigned expiry, SQS visibility and delays,
retention, STS expiry) asks a :class:`Clock`. The real clock follows the system; tests can switch
on the adjustable clock and advance it through the admin endpoint, so time-based behaviour is
tested in milliseconds instead of minutes.
"""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in seconds since the epoch, optionally shifted by an offset (tests only)."""

    __slots__ = ("_offset", "adjustable")

    def __init__(self, adjustable: bool = False) -> None:
        self._offset = 0.0
        self.adjustable = adjustable

    def now(self) -> float:
        return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move this clock forward; only an adjustable clock may be moved."""
        if not self.adjustable:
            raise PermissionError("the clock is not adjustable (start kumoi with --test-clock)")
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += seconds
        return self.now()
