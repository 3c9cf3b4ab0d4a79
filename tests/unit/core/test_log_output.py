"""``BatchedStreamHandler``: lines reach the stream whole, in order and in few writes; nothing
waits for the stream but an overflowing logger; closing writes what is left."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable

import pytest

from kumoi.core.log_output import BatchedStreamHandler


class CountingStream(io.StringIO):
    """A stream that remembers its writes and can be made to hold the writer."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def write(self, text: str) -> int:
        self.gate.wait(10)
        self.writes.append(text)
        return super().write(text)


def handler_on(stream: CountingStream, gather_s: float, max_pending: int = 1 << 20) -> BatchedStreamHandler:
    handler = BatchedStreamHandler(stream, gather_s, max_pending)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    return handler


def record(message: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "t", "msg": message, "levelno": logging.INFO})


def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_lines_arrive_in_order_in_one_write_after_the_gathering_pause() -> None:
    stream = CountingStream()
    handler = handler_on(stream, gather_s=0.2)
    try:
        for number in range(100):
            handler.emit(record(f"line {number}"))
        assert stream.writes == []  # nobody logging waited for the stream
        wait_for(lambda: stream.writes)
        assert stream.writes == ["".join(f"t line {number}\n" for number in range(100))]
    finally:
        handler.close()


def test_a_pause_then_more_lines_is_a_second_batch() -> None:
    stream = CountingStream()
    handler = handler_on(stream, gather_s=0.01)
    try:
        handler.emit(record("first"))
        wait_for(lambda: len(stream.writes) == 1)
        handler.write_line("preformatted\n")
        wait_for(lambda: len(stream.writes) == 2)
        assert stream.getvalue() == "t first\npreformatted\n"
    finally:
        handler.close()


def test_close_writes_what_is_pending_and_stops_the_thread() -> None:
    stream = CountingStream()
    handler = handler_on(stream, gather_s=60)
    handler.emit(record("last words"))
    handler.close()
    assert stream.getvalue() == "t last words\n"
    assert not any(thread.name == "kumoi-log" and thread.is_alive() for thread in threading.enumerate())


def test_an_overflowing_logger_writes_itself_and_keeps_the_order() -> None:
    stream = CountingStream()
    handler = handler_on(stream, gather_s=60, max_pending=64)
    try:
        handler.emit(record("a" * 10))
        assert stream.writes == []
        handler.emit(record("b" * 60))  # over 64 bytes pending: written on this thread, now
        assert stream.getvalue() == f"t {'a' * 10}\nt {'b' * 60}\n"
    finally:
        handler.close()


def test_a_stuck_stream_holds_only_its_writer_thread() -> None:
    stream = CountingStream()
    stream.gate.clear()
    handler = handler_on(stream, gather_s=0.0)
    try:
        handler.emit(record("one"))
        wait_for(lambda: handler._writing.locked())  # the writer thread is blocked in write()
        started = time.monotonic()
        for number in range(50):
            handler.emit(record(f"more {number}"))
        assert time.monotonic() - started < 1.0
    finally:
        stream.gate.set()
        handler.close()
    assert stream.getvalue() == "t one\n" + "".join(f"t more {number}\n" for number in range(50))


def test_a_failing_stream_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = BatchedStreamHandler(Broken(), gather_s=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.emit(record("lost"))
    handler.flush()  # handleError prints the failure to stderr; nothing is raised
    handler.close()
    assert "writing a batch of log lines failed" in capsys.readouterr().err
