"""S3 event notifications end to end with boto3: configuration, validation, the test event, and
events delivered to SQS queues directly and through SNS topics."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique

#: Longest wait for an expected message.
RECEIVE_DEADLINE_SECONDS = 10.0
_EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def sns(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sns")


def new_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """``count`` message bodies (parsed), deleting them; fails if they do not come in time."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + RECEIVE_DEADLINE_SECONDS
    while len(bodies) < count and time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) == count, bodies
    return bodies


def assert_empty(sqs: Any, url: str) -> None:
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert response.get("Messages", []) == []


def queue_config(arn: str, events: list[str], **filters: str) -> dict[str, Any]:
    config: dict[str, Any] = {"QueueArn": arn, "Events": events}
    if filters:
        rules = [{"Name": name, "Value": value} for name, value in filters.items()]
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def configure(s3: Any, sqs: Any, bucket: str, url: str, configs: list[dict[str, Any]]) -> None:
    """Set queue configurations and consume the test event they cause."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}
    )
    (probe,) = receive(sqs, url, 1)
    assert probe["Event"] == "s3:TestEvent"


def test_put_object_event_reaches_queue_as_aws_documents(s3: Any, sqs: Any, bucket: str) -> None:
    url, arn = new_queue(sqs)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "created", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    (probe,) = receive(sqs, url, 1)
    assert probe["Service"] == "Amazon S3"
    assert probe["Event"] == "s3:TestEvent"
    assert probe["Bucket"] == bucket
    assert _EVENT_TIME.match(probe["Time"])
    assert probe["RequestId"] and probe["HostId"]

    put = s3.put_object(Bucket=bucket, Key="dir/my file.txt", Body=b"hello")
    (message,) = receive(sqs, url, 1)
    (record,) = message["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert _EVENT_TIME.match(record["eventTime"])
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"]["sourceIPAddress"]
    assert record["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert record["responseElements"]["x-amz-id-2"] == put["ResponseMetadata"]["HostId"]
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0"
    assert s3_part["configurationId"] == "created"
    assert s3_part["bucket"]["name"] == bucket
    assert s3_part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3_part["bucket"]["ownerIdentity"]["principalId"]
    obj = s3_part["object"]
    assert obj["key"] == "dir/my+file.txt"
    assert obj["size"] == 5
    assert obj["eTag"] == put["ETag"].strip('"')
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"])


def test_sequencer_grows_per_key(s3: Any, sqs: Any, bucket: str) -> None:
    url, arn = new_queue(sqs)
    configure(s3, sqs, bucket, url, [queue_config(arn, ["s3:ObjectCreated:Put"])])
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    (first,) = receive(sqs, url, 1)
    s3.put_object(Bucket=bucket, Key="k", Body=b"22")
    (second,) = receive(sqs, url, 1)
    one = first["Records"][0]["s3"]["object"]["sequencer"]
    two = second["Records"][0]["s3"]["object"]["sequencer"]
    assert len(one) == len(two) and two > one


def test_every_created_and_removed_and_tagging_event(s3: Any, sqs: Any, bucket: str) -> None:
    url, arn = new_queue(sqs)
    configure(
        s3,
        sqs,
        bucket,
        url,
        [queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectTagging:*"])],
    )
    s3.put_object(Bucket=bucket, Key="a", Body=b"abc")
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.put_object_tagging(Bucket=bucket, Key="a", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="a")
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "m"}, {"Key": "absent"}]})
    s3.delete_object(Bucket=bucket, Key="never-there")
    got = [
        (m["Records"][0]["eventName"], m["Records"][0]["s3"]["object"]["key"]) for m in receive(sqs, url, 8)
    ]
    assert got == [
        ("ObjectCreated:Put", "a"),
        ("ObjectCreated:Copy", "b"),
        ("ObjectCreated:CompleteMultipartUpload", "m"),
        ("ObjectTagging:Put", "a"),
        ("ObjectTagging:Delete", "a"),
        ("ObjectRemoved:Delete", "a"),
        ("ObjectRemoved:Delete", "b"),
        ("ObjectRemoved:Delete", "m"),
    ]
    assert_empty(sqs, url)


def test_post_object_event(s3: Any, sqs: Any, bucket: str) -> None:
    import requests

    url, arn = new_queue(sqs)
    configure(s3, sqs, bucket, url, [queue_config(arn, ["s3:ObjectCreated:Post"])])
    form = s3.generate_presigned_post(bucket, "posted.txt")
    response = requests.post(form["url"], data=form["fields"], files={"file": b"form body"}, timeout=10)
    assert response.status_code == 204
    (message,) = receive(sqs, url, 1)
    record = message["Records"][0]
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["s3"]["object"]["size"] == len(b"form body")


def test_prefix_and_suffix_filters(s3: Any, sqs: Any, bucket: str) -> None:
    url, arn = new_queue(sqs)
    configure(
        s3,
        sqs,
        bucket,
        url,
        [
            queue_config(arn, ["s3:ObjectCreated:Put"], prefix="images/", suffix=".jpg"),
            queue_config(arn, ["s3:ObjectCreated:Put"], prefix="logs/"),
        ],
    )
    for key in ("images/a.jpg", "images/a.png", "docs/a.jpg", "logs/x", "log/y"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    keys = sorted(m["Records"][0]["s3"]["object"]["key"] for m in receive(sqs, url, 2))
    assert keys == ["images/a.jpg", "logs/x"]
    assert_empty(sqs, url)


def test_event_through_sns_topic_to_queue(s3: Any, sqs: Any, sns: Any, bucket: str) -> None:
    url, queue_arn = new_queue(sqs)
    topic = sns.create_topic(Name=unique("s3events"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]
        },
    )
    (probe,) = receive(sqs, url, 1)
    assert probe["Type"] == "Notification"
    assert probe["TopicArn"] == topic
    assert json.loads(probe["Message"])["Event"] == "s3:TestEvent"
    s3.put_object(Bucket=bucket, Key="via-topic", Body=b"x")
    (envelope,) = receive(sqs, url, 1)
    assert envelope["Subject"] == "Amazon S3 Notification"
    record = json.loads(envelope["Message"])["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "t"
    assert record["s3"]["object"]["key"] == "via-topic"


def test_configuration_round_trip_and_removal(s3: Any, sqs: Any, bucket: str) -> None:
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    url, arn = new_queue(sqs)
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [queue_config(arn, ["s3:ObjectCreated:*"], prefix="p/")],
            "LambdaFunctionConfigurations": [
                {"Id": "fn", "LambdaFunctionArn": lambda_arn, "Events": ["s3:ObjectRemoved:*"]}
            ],
            "EventBridgeConfiguration": {},
        },
    )
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    (queue,) = got["QueueConfigurations"]
    assert queue["QueueArn"] == arn and queue["Id"]
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "p/"}]
    assert got["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == lambda_arn
    assert "EventBridgeConfiguration" in got
    receive(sqs, url, 1)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="p/after", Body=b"x")
    assert_empty(sqs, url)


def invalid_argument(s3: Any, bucket: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert error_of(excinfo) == ("InvalidArgument", 400)
    assert excinfo.value.response["Error"]["Message"] == message


def test_unknown_event_is_rejected(s3: Any, sqs: Any, bucket: str) -> None:
    _url, arn = new_queue(sqs)
    config = {"QueueConfigurations": [queue_config(arn, ["s3:ObjectCreated:Nope"])]}
    invalid_argument(s3, bucket, config, "The event is not supported for notifications")


def test_overlapping_configurations_are_rejected(s3: Any, sqs: Any, bucket: str) -> None:
    _url, arn = new_queue(sqs)
    message = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    overlapping = [
        queue_config(arn, ["s3:ObjectCreated:*"], prefix="a/"),
        queue_config(arn, ["s3:ObjectCreated:Put"], prefix="a/b"),
    ]
    invalid_argument(s3, bucket, {"QueueConfigurations": overlapping}, message)
    disjoint = [
        queue_config(arn, ["s3:ObjectCreated:*"], prefix="a/"),
        queue_config(arn, ["s3:ObjectCreated:Put"], prefix="b/"),
        queue_config(arn, ["s3:ObjectRemoved:*"], prefix="a/"),
        queue_config(arn, ["s3:ObjectCreated:*"], suffix=".png"),
    ]
    # Prefixes differ, events differ, and "a/"+any vs any+".png" do overlap: only the first three are fine.
    invalid_argument(s3, bucket, {"QueueConfigurations": disjoint}, message)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": disjoint[:3]},
        SkipDestinationValidation=True,
    )


def test_bad_filter_rules_are_rejected(s3: Any, sqs: Any, bucket: str) -> None:
    _url, arn = new_queue(sqs)
    bad_name = {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}
    config = {
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": bad_name}]
    }
    invalid_argument(s3, bucket, config, "filter rule name must be either prefix or suffix")
    twice = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "prefix", "Value": "b"}]}}
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": twice}]}
    invalid_argument(s3, bucket, config, "Cannot specify more than one prefix rule in a filter.")


def test_missing_destinations_are_rejected(s3: Any, bucket: str) -> None:
    message = "Unable to validate the following destination configurations"
    queue = "arn:aws:sqs:us-east-1:000000000000:no-such-queue-anywhere"
    config: dict[str, Any] = {"QueueConfigurations": [queue_config(queue, ["s3:ObjectCreated:*"])]}
    invalid_argument(s3, bucket, config, message)
    topic = "arn:aws:sns:us-east-1:000000000000:no-such-topic-anywhere"
    config = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]}
    invalid_argument(s3, bucket, config, message)
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_missing_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_notification_configuration(Bucket=unique("absent"))
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_notification_configuration(Bucket=unique("absent"), NotificationConfiguration={})
    assert error_of(excinfo) == ("NoSuchBucket", 404)


def test_deleted_queue_does_not_block_other_destinations(s3: Any, sqs: Any, bucket: str) -> None:
    gone_url, gone_arn = new_queue(sqs)
    url, arn = new_queue(sqs)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                queue_config(gone_arn, ["s3:ObjectCreated:*"], prefix="a"),
                queue_config(arn, ["s3:ObjectCreated:*"], prefix="b"),
            ]
        },
    )
    receive(sqs, url, 1)
    sqs.delete_queue(QueueUrl=gone_url)
    s3.put_object(Bucket=bucket, Key="a1", Body=b"x")
    s3.put_object(Bucket=bucket, Key="b1", Body=b"x")
    (message,) = receive(sqs, url, 1)
    assert message["Records"][0]["s3"]["object"]["key"] == "b1"
