"""What enforcing IAM costs: 4 KiB S3 GetObject by an IAM user, enforcement off against on.

    python bench/iam_overhead.py [--rounds 4] [--duration 5] [--connections 16] [--out results.json]

One server, one account, one IAM user whose identity policy allows ``s3:GetObject`` on the bucket
(so evaluation does real work: the user's policies, the bucket's facts, matching), and the same
signed request replayed by wrk. Enforcement is switched on and off for the account through
``POST /_kumoi/enforcement`` between runs, in the order off, on, on, off, off, on... so drift in
the machine's load falls on both sides alike. Each run records requests/s and the server's CPU
time per request; on a shared machine the CPU per request is the fair comparison (throughput
also moves with other processes' load). The issue's target: enforcement on within 15% of off.
Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import psutil
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.foundation import cpu_seconds, lua_script, run_wrk
from bench.report import report
from tests.support.server import free_port, start_server

ACCOUNT = "000000000000"
REGION = "us-east-1"
BUCKET = "iam-bench"
KEY = "object-4k"


def switch(endpoint: str, enforce: bool) -> None:
    body = json.dumps({"account": ACCOUNT, "enforce": enforce}).encode()
    request = urllib.request.Request(f"{endpoint}/_kumoi/enforcement", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def user_key(endpoint: str) -> Credentials:
    """A bucket with one 4 KiB object, and an IAM user allowed to read it."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"0123456789abcdef" * 256)
    iam = session.client("iam", endpoint_url=endpoint)
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def signed_get(endpoint: str, credentials: Credentials) -> dict[str, str]:
    request = AWSRequest(method="GET", url=f"{endpoint}/{BUCKET}/{KEY}")
    S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
    return dict(request.headers.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="runs per side")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp) / "data", port=args.port or free_port(), args=("--log-level", "warning")
        )
        try:
            endpoint = server.endpoint
            process = psutil.Process(server.process.pid)
            script = lua_script("GET", f"/{BUCKET}/{KEY}", signed_get(endpoint, user_key(endpoint)), b"")
            order = [("off", "on", "on", "off")[i % 4] for i in range(2 * args.rounds)]
            for mode in order:
                switch(endpoint, mode == "on")
                time.sleep(0.2)
                before = cpu_seconds(process)
                rate = run_wrk(endpoint, script, args.duration, args.connections)
                used = cpu_seconds(process) - before
                runs[mode].append(
                    {"requests_per_s": rate, "cpu_ms_per_request": used * 1000 / (rate * args.duration)}
                )
                print(
                    f"{mode:>3}: {rate:8.0f} req/s  {runs[mode][-1]['cpu_ms_per_request']:.4f} ms CPU/request"
                )
        finally:
            server.stop()
    summary: dict[str, object] = {"connections": args.connections, "duration_s": args.duration, "runs": runs}
    for mode in ("off", "on"):
        summary[mode] = {
            "median_requests_per_s": round(statistics.median(r["requests_per_s"] for r in runs[mode])),
            "median_cpu_ms_per_request": round(
                statistics.median(r["cpu_ms_per_request"] for r in runs[mode]), 4
            ),
        }
    off, on = summary["off"], summary["on"]
    assert isinstance(off, dict) and isinstance(on, dict)
    summary["throughput_on_vs_off"] = round(on["median_requests_per_s"] / off["median_requests_per_s"], 3)
    summary["cpu_per_request_on_vs_off"] = round(
        on["median_cpu_ms_per_request"] / off["median_cpu_ms_per_request"], 3
    )
    report(summary, args.out)


if __name__ == "__main__":
    main()
