"""The seed file: buckets, queues, topics, users, roles and policies to exist at start-up.

The file is TOML (``--seed FILE``, or ``kumoi.toml`` in the working directory)::

    [[s3.buckets]]
    name = "photos"
    tags = { team = "imaging" }

    [[sqs.queues]]
    name = "thumbnails"
    attributes = { VisibilityTimeout = "60" }
    dead_letter_queue = "thumbnails-dlq"      # created too; moved to after max_receive_count
    max_receive_count = 3

    [[sns.topics]]
    name = "uploads"
    subscriptions = [{ protocol = "sqs", endpoint = "thumbnails" }]   # a queue name or an ARN/URL

    [[iam.policies]]
    name = "PhotosReadOnly"
    document = '{"Version": "2012-10-17", "Statement": [...]}'

    [[iam.users]]
    name = "developer"
    policies = ["PhotosReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"]

    [[iam.roles]]
    name = "operations"
    trust = '{"Version": "2012-10-17", "Statement": [...]}'
    policies = ["arn:aws:iam::aws:policy/PowerUserAccess"]

It is applied through kumoi's own API with the root credentials, so every rule and validation
applies exactly as for any client, and it is idempotent: what exists already is left as it is.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

log = logging.getLogger("kumoi.seed")

#: Error codes that mean "it is there already": the seed's idempotency.
_ALREADY_THERE = frozenset({"BucketAlreadyOwnedByYou", "EntityAlreadyExists", "QueueAlreadyExists"})
_SECTIONS = {
    "s3": ("buckets",),
    "sqs": ("queues",),
    "sns": ("topics",),
    "iam": ("policies", "users", "roles"),
}


class SeedError(ValueError):
    """The seed file is unreadable or names something kumoi does not know."""


def load(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    for service, kinds in document.items():
        if service not in _SECTIONS or not isinstance(kinds, dict):
            raise SeedError(f"{path}: unknown section [{service}]; known: {', '.join(_SECTIONS)}")
        unknown = set(kinds) - set(_SECTIONS[service])
        if unknown:
            raise SeedError(f"{path}: unknown entries in [{service}]: {', '.join(sorted(unknown))}")
    return document


class Seeder:
    """Applies a seed document through botocore clients pointed at this server."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str) -> None:
        session = botocore.session.get_session()
        self._client: Callable[[str], Any] = lambda service: session.create_client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )
        self._account = ""

    def apply(self, document: Mapping[str, Any]) -> None:
        self._account = self._client("sts").get_caller_identity()["Account"]
        for service in ("iam", "s3", "sqs", "sns"):
            if service in document:
                getattr(self, f"_{service}")(document[service])

    def _s3(self, section: Mapping[str, Any]) -> None:
        s3 = self._client("s3")
        for bucket in section.get("buckets", []):
            _tolerant(s3.create_bucket, Bucket=bucket["name"])
            if bucket.get("tags"):
                tags = [{"Key": k, "Value": str(v)} for k, v in bucket["tags"].items()]
                s3.put_bucket_tagging(Bucket=bucket["name"], Tagging={"TagSet": tags})
            log.info("seeded bucket %s", bucket["name"])

    def _sqs(self, section: Mapping[str, Any]) -> None:
        sqs = self._client("sqs")
        for queue in section.get("queues", []):
            attributes = {k: str(v) for k, v in queue.get("attributes", {}).items()}
            dlq_name = queue.get("dead_letter_queue")
            if dlq_name:
                fifo = {"FifoQueue": "true"} if dlq_name.endswith(".fifo") else {}
                dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes=fifo)["QueueUrl"]
                dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
                        "maxReceiveCount": str(queue.get("max_receive_count", 5)),
                    }
                )
            url = sqs.create_queue(QueueName=queue["name"])["QueueUrl"]
            if attributes:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            log.info("seeded queue %s", queue["name"])

    def _sns(self, section: Mapping[str, Any]) -> None:
        sns, sqs = self._client("sns"), self._client("sqs")
        for topic in section.get("topics", []):
            attributes = {k: str(v) for k, v in topic.get("attributes", {}).items()}
            arn = sns.create_topic(Name=topic["name"], Attributes=attributes)["TopicArn"]
            for subscription in topic.get("subscriptions", []):
                endpoint = subscription["endpoint"]
                if subscription["protocol"] == "sqs" and not endpoint.startswith("arn:"):
                    url = endpoint if "://" in endpoint else sqs.get_queue_url(QueueName=endpoint)["QueueUrl"]
                    endpoint = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                        "Attributes"
                    ]["QueueArn"]
                sns.subscribe(
                    TopicArn=arn,
                    Protocol=subscription["protocol"],
                    Endpoint=endpoint,
                    Attributes={k: str(v) for k, v in subscription.get("attributes", {}).items()},
                )
            log.info("seeded topic %s", topic["name"])

    def _iam(self, section: Mapping[str, Any]) -> None:
        iam = self._client("iam")
        for policy in section.get("policies", []):
            _tolerant(iam.create_policy, PolicyName=policy["name"], PolicyDocument=policy["document"])
        for user in section.get("users", []):
            _tolerant(iam.create_user, UserName=user["name"])
            for policy in user.get("policies", []):
                iam.attach_user_policy(UserName=user["name"], PolicyArn=self._policy_arn(policy))
        for role in section.get("roles", []):
            _tolerant(iam.create_role, RoleName=role["name"], AssumeRolePolicyDocument=role["trust"])
            for policy in role.get("policies", []):
                iam.attach_role_policy(RoleName=role["name"], PolicyArn=self._policy_arn(policy))
        log.info(
            "seeded IAM: %d policies, %d users, %d roles",
            len(section.get("policies", [])),
            len(section.get("users", [])),
            len(section.get("roles", [])),
        )

    def _policy_arn(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return f"arn:aws:iam::{self._account}:policy/{name_or_arn}"


def _tolerant(call: Callable[..., Any], **params: Any) -> None:
    try:
        call(**params)
    except ClientError as error:
        if error.response["Error"]["Code"] not in _ALREADY_THERE:
            raise
