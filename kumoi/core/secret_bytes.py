"""Secret random bytes (data keys, nonces, receipt tokens) from the OS, read in blocks.

``secrets.token_bytes`` makes a ``getrandom`` system call per call. On the 4 KiB PUT path, which
needs a fresh data key and a nonce for every sealed object, those two calls were 7% of the
server's CPU per request on our benchmark machine (a Firecracker VM, where system calls are
dear). Here one call reads :data:`BLOCK` bytes and the callers are handed disjoint slices of it,
so every byte still comes straight from the OS's CSPRNG and none is handed out twice. A lock
keeps threads apart; a forked child starts with an empty block rather than its parent's.
"""

from __future__ import annotations

import base64
import os
import threading

#: Bytes read from the OS at a time.
BLOCK = 4096


class _Pool:
    __slots__ = ("_block", "_lock", "_used")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        if count > BLOCK:
            return os.urandom(count)
        with self._lock:
            start = self._used
            if start + count > len(self._block):
                self._block = os.urandom(BLOCK)
                start = 0
            self._used = start + count
            return self._block[start : start + count]

    def forget(self) -> None:
        self._block, self._used = b"", 0


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.forget)


def token_bytes(count: int) -> bytes:
    """``count`` secret random bytes, as ``secrets.token_bytes(count)``."""
    return _POOL.take(count)


def token_urlsafe(count: int) -> str:
    """``count`` secret random bytes in URL-safe base64, as ``secrets.token_urlsafe(count)``."""
    return base64.urlsafe_b64encode(_POOL.take(count)).rstrip(b"=").decode("ascii")
