"""Time as kumoi sees it.

Every rule that depends on time (SigV4 skew, presigned expiry, SQS visibility and delays,
retention, STS expiry) asks a :class:`Clock`. The real clock follows the system; tests can switch
on the adjustable clock and advance it through the admin endpoint, so time-based behaviour is
tested in milliseconds instead of minutes.
"""

from __future__ import annotations

import math
import time

#: The last moment the wire's date formats can write (9999-12-31T23:59:59Z): the adjustable clock
#: stops short of it, or every response's ``Date`` header would fail.
LAST_WRITABLE = 253_402_300_799.0


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
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("time only moves forward, by a finite number of seconds")
        if self.now() + seconds > LAST_WRITABLE:
            raise ValueError("time cannot move past 9999-12-31T23:59:59Z")
        self._offset += seconds
        return self.now()
