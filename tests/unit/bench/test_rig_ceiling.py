"""The pieces of bench/rig_ceiling.py that decide what is measured: the page trimming, the
oracle's request matching and framing, the oracle process, and the summaries."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import rig_ceiling as rc
from tests.support.server import free_port

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


CHECKSUMS = "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>"


def listing(keys: list[str], checksums: bool = True, token: str | None = None) -> bytes:
    """A ListObjectsV2 page shaped like kumoi's (``checksums``) or like a peer's."""
    extra = CHECKSUMS if checksums else ""
    entries = "".join(
        f"<Contents><Key>{escape(key)}</Key><Size>16</Size>{extra}<StorageClass>STANDARD</StorageClass></Contents>"
        for key in keys
    )
    tail = "<IsTruncated>false</IsTruncated>"
    if token:
        tail = f"<IsTruncated>true</IsTruncated><NextContinuationToken>{token}</NextContinuationToken>"
    head = f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}">'
    return f"{head}{entries}{tail}</ListBucketResult>".encode()


def test_strip_checksums_removes_only_the_checksum_elements() -> None:
    body = listing(["a", "b"], token="t1")
    stripped = rc.strip_checksums(body)
    assert stripped == listing(["a", "b"], checksums=False, token="t1")
    assert rc.page_facts(stripped) == rc.page_facts(body) == (2, True, "t1")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1), max_size=20)
)
def test_strip_checksums_keeps_every_key(keys: list[str]) -> None:
    stripped = rc.strip_checksums(listing(keys))
    assert b"Checksum" not in stripped
    assert rc.page_facts(stripped) == (len(keys), False, None)


def test_page_facts_without_namespace() -> None:
    assert rc.page_facts(
        b"<ListBucketResult><Contents/><IsTruncated>false</IsTruncated></ListBucketResult>"
    ) == (
        1,
        False,
        None,
    )


def parse_response(raw: bytes) -> http.client.HTTPResponse:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(raw)
        left.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(right)
        response.begin()
        response.body = response.read()  # type: ignore[attr-defined]
        return response


def test_raw_response_replays_headers_with_fresh_framing() -> None:
    captured = rc.Captured(
        "/b?x=1",
        200,
        "OK",
        [
            ("Content-Length", "999"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "close"),
            ("x-amz-request-id", "R1"),
        ],
        b"original",
    )
    response = parse_response(rc.raw_response(captured, b"trimmed"))
    assert (response.status, response.reason, response.body) == (200, "OK", b"trimmed")  # type: ignore[attr-defined]
    assert response.getheader("x-amz-request-id") == "R1"
    assert response.getheader("Content-Length") == "7"
    assert response.getheader("Transfer-Encoding") is None
    assert response.getheader("Connection") is None
    assert not response.will_close


def test_request_key() -> None:
    assert rc.request_key(b"GET /b?list-type=2&prefix=list%2F HTTP/1.1\r\nHost: h\r\nX-Amz-Date: d") == (
        b"/b?list-type=2&prefix=list%2F",
        0,
    )
    head = b"POST / HTTP/1.1\r\nx-amz-target:  AmazonSQS.SendMessageBatch \r\nCONTENT-LENGTH: 12"
    assert rc.request_key(head) == (b"/ AmazonSQS.SendMessageBatch", 12)
    with pytest.raises(ValueError):
        rc.request_key(b"GARBAGE\r\nHost: h")


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """(server side, client side) of one loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        server, _ = listener.accept()
    return server, client


def test_handle_connection_answers_keep_alive_requests_in_order() -> None:
    pages = {
        b"/b?p=1": rc.raw_response(rc.Captured("/b?p=1", 200, "OK", [], b"page one"), b"page one"),
        b"/ AmazonSQS.SendMessageBatch": rc.raw_response(
            rc.Captured("", 200, "OK", [], b"{}"), b'{"Successful":[]}'
        ),
    }
    server_side, client_side = tcp_pair()
    worker = threading.Thread(target=rc.handle_connection, args=(server_side, pages, time.monotonic() + 10))
    worker.start()
    conn = http.client.HTTPConnection("127.0.0.1", timeout=10)
    conn.sock = client_side
    try:
        seen = []
        for method, target, headers, body in (
            ("GET", "/b?p=1", {}, None),
            ("POST", "/", {"X-Amz-Target": "AmazonSQS.SendMessageBatch"}, b'{"Entries": [1, 2, 3]}'),
            ("GET", "/not-captured", {}, None),
            ("GET", "/b?p=1", {}, None),
        ):
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            seen.append((response.status, response.read()))
    finally:
        conn.close()
        worker.join(10)
    assert seen == [
        (200, b"page one"),
        (200, b'{"Successful":[]}'),
        (404, b"not in capture\n"),
        (200, b"page one"),
    ]
    assert not worker.is_alive()


def test_oracle_process_serves_its_responses_and_is_stopped(tmp_path: Path) -> None:
    port = free_port()
    captured = rc.Captured("/b?p=1", 200, "OK", [("Content-Type", "application/xml")], b"<x/>")
    with rc.oracle_process(
        "oracle", {captured.key: rc.raw_response(captured, b"<x/>")}, port, tmp_path, 60
    ) as child:
        rc.wait_ready(lambda: rc.answers(port, "/b?p=1"), child, timeout=20)
        assert not rc.answers(port, "/elsewhere")
        assert rc.proc_cpu_seconds(child.pid) >= 0
    assert child.poll() is not None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_proc_cpu_seconds_counts_this_process() -> None:
    before = rc.proc_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert rc.proc_cpu_seconds(os.getpid()) >= before


def test_summarize_aggregates_reps_per_op() -> None:
    reps: list[dict[str, Any]] = [
        {
            "value": 0.1,
            "ops": 50,
            "client_cpu_s": 0.3,
            "server_cpu_s": 0.2,
            "proc_stat_cpu_s": 0.2,
            "errors": 0,
        },
        {
            "value": 0.3,
            "ops": 50,
            "client_cpu_s": 0.3,
            "server_cpu_s": 0.0,
            "proc_stat_cpu_s": 0.0,
            "errors": 0,
        },
        {"value": None, "exception": "RuntimeError: boom"},
    ]
    summary = rc.summarize(reps)
    assert summary["reps"] == 3 and summary["good_reps"] == 2 and summary["errors"] == 1
    assert (summary["mean"], summary["median"], summary["min"], summary["max"]) == (0.2, 0.2, 0.1, 0.3)
    assert summary["client_cpu_ms_per_op"] == 6.0
    assert summary["server_cpu_ms_per_op"] == summary["proc_stat_cpu_ms_per_op"] == 2.0


def test_ratios_read_lower_and_higher_is_better() -> None:
    walks = rc.ratios({"kumoi": 0.1, "oracle": 0.05, "oracle_stripped": None}, 0.2, higher_is_better=False)
    assert walks == {"oracle_over_kumoi": 2.0, "kumoi_over_peer": 2.0, "oracle_over_peer": 4.0}
    rates = rc.ratios({"kumoi": 30000.0, "oracle": 60000.0}, None, higher_is_better=True)
    assert rates == {"oracle_over_kumoi": 2.0}


def test_add_peer_prefers_the_peer_measured_in_the_rounds(tmp_path: Path) -> None:
    peer_file = tmp_path / "peer.json"
    peer_file.write_text(
        json.dumps(
            {"workloads": {"s3_list_10000_keys": {"median": 0.3, "reps": [{"value": 0.3}, {"value": 0.2}]}}}
        )
    )
    result: dict[str, Any] = {
        "servers": {"kumoi": {"median": 0.1}, "oracle": {"median": 0.05}, "peer": {"median": 0.2}}
    }
    rc.add_peer(result, peer_file, "s3_list_10000_keys", higher_is_better=False)
    assert result["peer_result"] == {"median": 0.3, "reps": [0.3, 0.2]}
    assert result["ratios"] == {"oracle_over_kumoi": 2.0, "kumoi_over_peer": 2.0, "oracle_over_peer": 4.0}
    assert result["ratios_vs_peer_result"] == {
        "oracle_over_kumoi": 2.0,
        "kumoi_over_peer": 3.0,
        "oracle_over_peer": 6.0,
    }

    alone: dict[str, Any] = {"servers": {"kumoi": {"median": 0.1}, "oracle": {"median": 0.05}}}
    rc.add_peer(alone, peer_file, "s3_list_10000_keys", higher_is_better=False)
    assert alone["ratios"] == result["ratios_vs_peer_result"]
    assert "ratios_vs_peer_result" not in alone
    rc.add_peer(alone, None, "s3_list_10000_keys", higher_is_better=False)
    assert alone["peer_result"] == {} and alone["ratios"] == {"oracle_over_kumoi": 2.0}
