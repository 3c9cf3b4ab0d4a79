"""Pooled secret bytes: right lengths, never the same bytes twice, safe across threads and fork."""

from __future__ import annotations

import base64
import os
import threading

from hypothesis import given
from hypothesis import strategies as st

from kumoi.core import secret_bytes


@given(st.lists(st.integers(min_value=0, max_value=3 * secret_bytes.BLOCK), max_size=20))
def test_lengths(counts: list[int]) -> None:
    for count in counts:
        assert len(secret_bytes.token_bytes(count)) == count
        token = secret_bytes.token_urlsafe(count)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == count


def test_no_bytes_handed_out_twice_across_threads() -> None:
    taken: list[bytes] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [secret_bytes.token_bytes(32) for _ in range(500)]
        with lock:
            taken.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(taken) == 4000 and len(set(taken)) == 4000


def test_a_forked_child_does_not_reuse_the_parents_block() -> None:
    secret_bytes.token_bytes(16)  # the parent holds a partly used block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next bytes, then leave at once
        os.close(read)
        os.write(write, secret_bytes.token_bytes(32))
        os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != secret_bytes.token_bytes(32)
