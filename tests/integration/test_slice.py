"""The foundation's thin slice through the front door: boto3 against a real server."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from kumoi.protocol.overlays.sqs_query import sqs_query_model
from tests.support.query_client import QueryClient, QueryError
from tests.support.server import ServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("path", ["/_kumoi/health", "/_localstack/health"])
def test_health(server: ServerProcess, path: str) -> None:
    with urllib.request.urlopen(server.endpoint + path) as response:
        document = json.load(response)
    assert {"s3", "sqs", "sts"} <= set(document["services"])
    assert set(document["services"].values()) == {"running"}
    assert document["version"]


def test_get_caller_identity(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"


def test_bucket_lifecycle(s3: Any) -> None:
    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in names
    # Re-creating your own bucket in us-east-1 succeeds, as on AWS.
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket="Not_Valid")
    assert error_of(excinfo) == ("InvalidBucketName", 400)


@pytest.mark.parametrize("size", [0, 1, 4096, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 17])
def test_put_get_object(s3: Any, size: int) -> None:
    bucket = unique("objects")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(size)
    put = s3.put_object(
        Bucket=bucket, Key="a/b.bin", Body=data, Metadata={"colour": "blue"}, ContentType="application/x-test"
    )
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="a/b.bin")
    assert got["Body"].read() == data
    assert got["ContentLength"] == size
    assert got["ETag"] == put["ETag"]
    assert got["Metadata"] == {"colour": "blue"}
    assert got["ContentType"] == "application/x-test"


def test_ranged_get(s3: Any) -> None:
    bucket = unique("ranges")
    s3.create_bucket(Bucket=bucket)
    data = bytes(range(256)) * 1024
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    got = s3.get_object(Bucket=bucket, Key="k", Range="bytes=100-199")
    assert got["Body"].read() == data[100:200]
    assert got["ContentRange"] == f"bytes 100-199/{len(data)}"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    tail = s3.get_object(Bucket=bucket, Key="k", Range="bytes=-10")
    assert tail["Body"].read() == data[-10:]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={len(data)}-")
    assert error_of(excinfo) == ("InvalidRange", 416)


@pytest.mark.parametrize(
    "key",
    ["../x", "a//b", "/leading", "trailing/", "100% + sure", "ctl\x01\x7f", "emoji 🌸 雲居", "a" * 1024],
)
def test_hostile_keys_are_stored_exactly(s3: Any, key: str) -> None:
    bucket = unique("keys")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()


def test_missing_things(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=unique("absent"), Key="k")
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    bucket = unique("present")
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_bad_content_md5(s3: Any) -> None:
    bucket = unique("md5")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"changed", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert error_of(excinfo) == ("BadDigest", 400)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


def test_unimplemented_operation_names_itself(s3: Any) -> None:
    bucket = unique("todo")
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_replication(Bucket=bucket)
    code, status = error_of(excinfo)
    assert (code, status) == ("NotImplemented", 501)
    assert "GetBucketReplication" in excinfo.value.response["Error"]["Message"]


def test_sqs_json_send_receive(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique("queue"))["QueueUrl"]
    attributes = {
        "kind": {"DataType": "String", "StringValue": "greeting"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello 雲", MessageAttributes=attributes)
    received = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], WaitTimeSeconds=1
    )
    [message] = received["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello 雲"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "greeting"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)


def test_sqs_json_missing_queue_code(sqs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl="http://127.0.0.1/000000000000/absent-queue", MessageBody="x")
    code = excinfo.value.response["Error"]["Code"]
    assert code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def test_sqs_query_protocol(server: ServerProcess) -> None:
    client = QueryClient(sqs_query_model(), server.endpoint + "/", signing_name="sqs")
    url = client.call("CreateQueue", QueueName=unique("legacy"))["QueueUrl"]
    sent = client.call(
        "SendMessage",
        QueueUrl=url,
        MessageBody="via query",
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "42"}},
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"via query").hexdigest()
    received = client.call("ReceiveMessage", QueueUrl=url, MessageAttributeNames=["All"])
    [message] = received["Messages"]
    assert message["Body"] == "via query"
    assert message["MessageAttributes"]["n"]["StringValue"] == "42"
    with pytest.raises(QueryError) as excinfo:
        client.call("GetQueueUrl", QueueName=unique("absent"))
    assert excinfo.value.error["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_long_poll_wakes_on_send(sqs: Any) -> None:
    import threading
    import time

    url = sqs.create_queue(QueueName=unique("poll"))["QueueUrl"]
    timer = threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    timer.start()
    started = time.monotonic()
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - started
    timer.join()
    assert received["Messages"][0]["Body"] == "late"
    assert elapsed < 2.0
