"""The access log's direct lines are exactly what ``logging`` makes of the same record."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumoi.core.log_output import BatchedStreamHandler
from kumoi.server import access_log

FIELDS = ("127.0.0.1", "GET", "s3", "GetObject", 200, 0.25, "5216C84367BBFD66")


def through_logging(when: float, fields: tuple[str, str, str, str, int, float, str]) -> str:
    record = logging.makeLogRecord(
        {
            "name": "kumoi.access",
            "msg": "%s %s %s %s %d %.1fms %s",
            "args": fields,
            "levelno": logging.INFO,
            "levelname": "INFO",
            "created": when,
            "msecs": int((when - int(when)) * 1000),
        }
    )
    return logging.Formatter(access_log.LOG_FORMAT).format(record) + "\n"


@given(
    when=st.floats(min_value=1.6e9, max_value=2.0e9),
    status=st.integers(min_value=100, max_value=599),
    elapsed=st.floats(min_value=0, max_value=1e5),
    operation=st.text(max_size=30),
)
def test_a_direct_line_is_the_logging_line(when: float, status: int, elapsed: float, operation: str) -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, gather_s=60)
    fields = ("::1", "PUT", "sqs", operation, status, elapsed, "r-1")
    try:
        access_log._Direct(handler).write(when, fields)
        handler.flush()
    finally:
        handler.close()
    assert stream.getvalue() == through_logging(when, fields)


def test_log_request_goes_direct_when_told_and_through_logging_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, gather_s=60)
    try:
        access_log.direct_to(handler)
        assert access_log.enabled()
        access_log.log_request(*FIELDS)
        handler.flush()
        assert stream.getvalue().endswith(
            " INFO kumoi.access: 127.0.0.1 GET s3 GetObject 200 0.2ms 5216C84367BBFD66\n"
        )
    finally:
        access_log.direct_to(None)
        handler.close()
    with caplog.at_level(logging.INFO, logger="kumoi.access"):
        access_log.log_request(*FIELDS)
    assert caplog.messages == ["127.0.0.1 GET s3 GetObject 200 0.2ms 5216C84367BBFD66"]
