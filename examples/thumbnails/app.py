"""Example app: images uploaded to S3 get thumbnails, and subscribers hear about them.

    upload photos/cat.jpg ─▶ S3 event ─▶ SQS queue "thumbnail-jobs" ─▶ worker
        worker: download, make a 128 px thumbnail, upload thumbnails/cat.jpg ─▶ SNS "thumbnails-ready"

The same code runs against AWS and against kumoi: it only uses boto3 and the standard AWS
environment (``AWS_ENDPOINT_URL`` points it at kumoi).

    python examples/thumbnails/app.py setup          # bucket, queue, topic, notification
    python examples/thumbnails/app.py work [--once]  # the worker
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import boto3
from PIL import Image

BUCKET = "kumoi-example-photos"
QUEUE = "thumbnail-jobs"
TOPIC = "thumbnails-ready"
SOURCE_PREFIX = "photos/"
THUMBNAIL_PREFIX = "thumbnails/"
THUMBNAIL_SIZE = (128, 128)


@dataclass(frozen=True)
class Resources:
    queue_url: str
    topic_arn: str


def setup(s3: Any, sqs: Any, sns: Any) -> Resources:
    """Create the bucket, queue and topic, and send the bucket's new photos to the queue."""
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": SOURCE_PREFIX}]}},
                }
            ]
        },
    )
    return Resources(queue_url, topic_arn)


def thumbnail(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG")
    return out.getvalue()


def work_once(s3: Any, sqs: Any, sns: Any, resources: Resources, wait_seconds: int = 5) -> list[str]:
    """Handle the jobs one receive returns; returns the thumbnail keys written."""
    received = sqs.receive_message(
        QueueUrl=resources.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
    )
    written: list[str] = []
    for message in received.get("Messages", []):
        event = json.loads(message["Body"])
        for record in event.get("Records", []):  # the s3:TestEvent has none
            key = unquote_plus(record["s3"]["object"]["key"])
            source = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            target = THUMBNAIL_PREFIX + key.removeprefix(SOURCE_PREFIX)
            s3.put_object(Bucket=BUCKET, Key=target, Body=thumbnail(source), ContentType="image/jpeg")
            sns.publish(
                TopicArn=resources.topic_arn,
                Subject="thumbnail ready",
                Message=json.dumps({"bucket": BUCKET, "source": key, "thumbnail": target}),
            )
            written.append(target)
        sqs.delete_message(QueueUrl=resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="thumbnail example")
    parser.add_argument("command", choices=["setup", "work"])
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()
    s3, sqs, sns = boto3.client("s3"), boto3.client("sqs"), boto3.client("sns")
    resources = setup(s3, sqs, sns)
    if args.command == "setup":
        print(f"queue {resources.queue_url}, topic {resources.topic_arn}")
        return
    while True:
        for key in work_once(s3, sqs, sns, resources):
            print("wrote", key)
        if args.once:
            return


if __name__ == "__main__":
    main()
