"""Start-up conveniences for teams moving from LocalStack: seed file, init scripts, HTTPS; and a
start-up that loads only what serving needs."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from tests.support.server import ServerProcess, free_port, running_server

SEED = """
[[s3.buckets]]
name = "seeded-photos"
tags = { team = "imaging" }

[[sqs.queues]]
name = "seeded-jobs"
attributes = { VisibilityTimeout = "60" }
dead_letter_queue = "seeded-jobs-dlq"
max_receive_count = 3

[[sns.topics]]
name = "seeded-events"
subscriptions = [{ protocol = "sqs", endpoint = "seeded-jobs", attributes = { RawMessageDelivery = "true" } }]

[[iam.policies]]
name = "SeededRead"
document = '''
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'''

[[iam.users]]
name = "seeded-developer"
policies = ["SeededRead", "arn:aws:iam::aws:policy/ReadOnlyAccess"]

[[iam.roles]]
name = "seeded-operations"
trust = '''
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole"}]}'''
policies = ["arn:aws:iam::aws:policy/PowerUserAccess"]
"""

READY_SCRIPT = """#!/usr/bin/env bash
set -e
aws s3api create-bucket --bucket from-init-script >/dev/null
echo "$AWS_ENDPOINT_URL" > "$MARKER"
"""


def wait_for_init(server: ServerProcess) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(server.endpoint + "/_localstack/init") as response:
            state: dict[str, Any] = json.load(response)
        if state["completed"]["READY"] or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_seed_file_and_init_scripts(tmp_path: Path) -> None:
    seed = tmp_path / "kumoi.toml"
    seed.write_text(SEED)
    data_dir = tmp_path / "data"
    ready = data_dir / "init" / "ready.d"
    ready.mkdir(parents=True)
    (ready / "10-bucket.sh").write_text(READY_SCRIPT)
    marker = tmp_path / "marker"
    for attempt in range(2):  # the second start finds everything there: seeding is idempotent
        with running_server(data_dir, args=("--seed", str(seed)), env={"MARKER": str(marker)}) as server:
            assert wait_for_init(server)["state"] == "done", server.log()
            s3, sqs = server.client("s3"), server.client("sqs")
            names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
            assert {"seeded-photos", "from-init-script"} <= names
            tags = s3.get_bucket_tagging(Bucket="seeded-photos")["TagSet"] if attempt == 0 else None
            assert tags is None or tags == [{"Key": "team", "Value": "imaging"}]
            url = sqs.get_queue_url(QueueName="seeded-jobs")["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert attributes["VisibilityTimeout"] == "60"
            assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(":seeded-jobs-dlq")
            assert marker.read_text().strip() == server.endpoint
            sns, iam = server.client("sns"), server.client("iam")
            [topic] = [
                t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":seeded-events")
            ]
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            assert [s["Endpoint"].rsplit(":", 1)[1] for s in subscriptions] == ["seeded-jobs"]
            sns.publish(TopicArn=topic, Message="seeded fan-out")
            bodies = [
                m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
            ]
            assert bodies == ["seeded fan-out"]
            attached = iam.list_attached_user_policies(UserName="seeded-developer")["AttachedPolicies"]
            assert {p["PolicyName"] for p in attached} == {"SeededRead", "ReadOnlyAccess"}
            role = iam.list_attached_role_policies(RoleName="seeded-operations")["AttachedPolicies"]
            assert [p["PolicyName"] for p in role] == ["PowerUserAccess"]


def test_https_side_by_side(tmp_path: Path) -> None:
    tls_port = free_port()
    with running_server(tmp_path / "data", args=("--tls", "--tls-port", str(tls_port))) as server:
        cert = tmp_path / "data" / "tls" / "cert.pem"
        deadline = time.monotonic() + 10
        while not cert.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(
            f"https://localhost:{tls_port}/_kumoi/health", context=context
        ) as response:
            assert json.load(response)["services"]["s3"] == "running"
        sts = boto3.session.Session().client(
            "sts",
            endpoint_url=f"https://localhost:{tls_port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            verify=str(cert),
        )
        assert sts.get_caller_identity()["Account"] == "000000000000"
        assert server.client("sts").get_caller_identity()["Account"] == "000000000000"


#: What a server without ``--tls`` or ``--enforce-iam`` must not load while starting and idling:
#: botocore's client stack, awscrt, cryptography and the IAM policy engine each cost start-up
#: time and resident memory, and are imported when a request first needs them.
HEAVY_MODULES = (
    "botocore.model",
    "botocore.loaders",
    "botocore.session",
    "urllib3",
    "awscrt",
    "cryptography",
    "kumoi.services.iam.authorizer",
)

START_AND_IDLE = """
import asyncio, json, sys
from pathlib import Path

from kumoi.config import load_settings
from kumoi.runtime.app import Kumoi


async def main():
    settings = {"host": "127.0.0.1", "port": 0, "data_dir": Path(sys.argv[1]), "log_level": "warning"}
    server = Kumoi(load_settings(settings, environ={}))
    await server.start()
    await asyncio.sleep(0.5)
    await server.stop()


asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def test_start_up_loads_nothing_a_request_does_not_need(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-c", START_AND_IDLE, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert [name for name in loaded if name.startswith(HEAVY_MODULES)] == []
    # The SNS signing key is made when SNS is first used, not at start-up.
    assert not (data_dir / "sns").exists()


def test_first_requests_load_what_they_need(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        s3, sns = server.client("s3"), server.client("sns")
        s3.create_bucket(Bucket="lazy")
        s3.put_object(Bucket="lazy", Key="k", Body=b"sealed at rest", ChecksumAlgorithm="CRC32C")
        assert (
            s3.get_object(Bucket="lazy", Key="k", ChecksumMode="ENABLED")["Body"].read() == b"sealed at rest"
        )
        sns.create_topic(Name="lazy")
        deadline = time.monotonic() + 30
        key = tmp_path / "data" / "sns" / "signing-key.pem"
        while not key.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert key.exists(), "the first SNS request starts making the signing key"


SERVE_UNTIL_SIGNALLED = """
import asyncio, gc, os, signal, sys
from pathlib import Path

from kumoi.config import load_settings
from kumoi.runtime.serve import serve_until_signalled


async def main():
    settings = {"host": "127.0.0.1", "port": 0, "data_dir": Path(sys.argv[1]), "log_level": "warning"}
    serving = asyncio.ensure_future(serve_until_signalled(load_settings(settings, environ={})))
    for _ in range(600):
        if gc.get_freeze_count() or serving.done():
            break
        await asyncio.sleep(0.05)
    print(gc.get_freeze_count(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    await serving


asyncio.run(main())
"""


def test_serving_takes_what_start_up_built_out_of_the_collectors_view(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SERVE_UNTIL_SIGNALLED, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(result.stdout.split()[-1]) > 10_000
