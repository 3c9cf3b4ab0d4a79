"""Fault injection for storage tests (the idea of MinIO's "naughty disk").

A :class:`FaultPlan` names operations ("write", "fsync", "rename", "commit", ...) and, for each,
the call number that must fail. Storage code calls :meth:`FaultPlan.check` at each injection point;
the default plan, :data:`NO_FAULTS`, does nothing and costs one attribute test per call. Tests build
a plan that fails, say, the third fsync, and then show that the error reaches the caller and leaves
no half-visible state behind.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Mapping


class InjectedFault(OSError):
    """The error a planned fault raises: an ``EIO`` like a failing disk would give."""

    def __init__(self, op: str, call: int) -> None:
        super().__init__(errno.EIO, f"injected fault: {op} call #{call}")
        self.op = op
        self.call = call


class FaultPlan:
    """Fail chosen calls of chosen operations. Thread-safe: storage calls it from worker threads.

    ``FaultPlan({"fsync": 3})`` fails the third fsync; ``FaultPlan({"write": 1}, always=True)``
    fails every write from the first on.
    """

    __slots__ = ("_always", "_counts", "_lock", "_targets", "active", "triggered")

    def __init__(self, targets: Mapping[str, int] | None = None, *, always: bool = False) -> None:
        self._targets = dict(targets or {})
        self._always = always
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.active = bool(self._targets)
        self.triggered: list[tuple[str, int]] = []

    def check(self, op: str) -> None:
        """Count a call of ``op``; raise :class:`InjectedFault` if the plan says this one fails."""
        if not self.active:
            return
        target = self._targets.get(op)
        if target is None:
            return
        with self._lock:
            call = self._counts.get(op, 0) + 1
            self._counts[op] = call
            if call == target or (self._always and call >= target):
                self.triggered.append((op, call))
                raise InjectedFault(op, call)

    def calls(self, op: str) -> int:
        """How many times ``op`` was checked so far (only counted for planned operations)."""
        with self._lock:
            return self._counts.get(op, 0)


#: The plan used when no faults are wanted.
NO_FAULTS = FaultPlan()
