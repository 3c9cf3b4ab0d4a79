"""The thumbnail example app, end to end against kumoi with the pytest plugin's fixture."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import boto3
from PIL import Image

from kumoi.testing import Endpoint

APP = Path(__file__).resolve().parents[2] / "examples" / "thumbnails" / "app.py"


def load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("thumbnails_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_upload_makes_a_thumbnail_and_announces_it(kumoi: Endpoint) -> None:
    app = load_app()
    app.BUCKET = f"photos-{kumoi.account_id}"  # bucket names are global: one per test account
    s3, sqs, sns = boto3.client("s3"), boto3.client("sqs"), boto3.client("sns")
    resources = app.setup(s3, sqs, sns)
    listener = sqs.create_queue(QueueName="listener")["QueueUrl"]
    listener_arn = sqs.get_queue_attributes(QueueUrl=listener, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=resources.topic_arn,
        Protocol="sqs",
        Endpoint=listener_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 90)).save(photo, format="PNG")
    s3.put_object(Bucket=app.BUCKET, Key="photos/red cat.png", Body=photo.getvalue())

    written: list[str] = []
    for _ in range(5):
        written += app.work_once(s3, sqs, sns, resources, wait_seconds=2)
        if written:
            break
    assert written == ["thumbnails/red cat.png"]
    thumb = Image.open(io.BytesIO(s3.get_object(Bucket=app.BUCKET, Key=written[0])["Body"].read()))
    assert max(thumb.size) == 128
    announced = sqs.receive_message(QueueUrl=listener, WaitTimeSeconds=5)["Messages"]
    assert json.loads(announced[0]["Body"])["thumbnail"] == "thumbnails/red cat.png"
