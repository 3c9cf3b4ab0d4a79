"""Random signed requests never get a 500: every refusal is a client error, as AWS sends.

Each request is well signed and otherwise random: an S3 method, bucket, key, subresources,
headers and body; an SQS JSON action with a random document; a query-protocol action of SQS,
SNS, IAM or STS with random parameters. Values mix hostile text (``../x``, control characters,
lone surrogates in their UTF-8 form, huge numbers, dates no calendar holds) with plausible
ones, so that requests get past parsing into the services. Seeded and bounded: the same
requests every run. ``501 NotImplemented`` (an operation kumoi does not offer yet) is a refusal
too; anything else of 500 and up is a bug.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.support.raw import RawResponse, signed_send
from tests.support.server import ServerProcess

REQUESTS_PER_SEED = 400
#: An object no random request names: it must come through untouched.
KEPT = "kept-out-of-reach"

TEXT = [
    "", "a", "../x", "%", "%zz", "é", "a/b", "//", "?", "&", "=", " ", "+", "~", "0", "-1",
    "99999999999999999999", "0001-01-01T00:00:00+10:00", "true", "null", "{}", "[]", "<a>", "'",
    '"', "\x01", "x" * 300, "\U0001f600", "*",
]  # fmt: skip
S3_SUBRESOURCES = [
    "acl", "tagging", "versioning", "lifecycle", "cors", "policy", "uploads", "uploadId",
    "partNumber", "versionId", "list-type", "max-keys", "prefix", "delimiter",
    "continuation-token", "encoding-type", "location", "notification", "object-lock",
    "retention", "legal-hold", "restore", "attributes", "versions", "delete", "encryption",
    "ownershipControls", "publicAccessBlock", "key-marker", "version-id-marker", "marker",
    "start-after", "fetch-owner", "max-parts", "part-number-marker", "response-content-type",
    "x-id", "max-uploads", "upload-id-marker",
]  # fmt: skip
S3_HEADERS = [
    "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm",
    "x-amz-copy-source", "x-amz-copy-source-range", "range", "if-match", "if-none-match",
    "if-modified-since", "if-unmodified-since", "x-amz-meta-a", "x-amz-tagging", "x-amz-acl",
    "x-amz-storage-class", "x-amz-server-side-encryption", "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date", "x-amz-metadata-directive", "x-amz-tagging-directive",
    "content-type", "x-amz-expected-bucket-owner", "x-amz-bypass-governance-retention",
    "x-amz-checksum-type", "x-amz-object-ownership", "x-amz-checksum-mode", "expires",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-mp-object-size",
]  # fmt: skip
HEADER_VALUES = [
    *(text for text in TEXT if text.isascii() and text.isprintable()),
    "STANDARD", "GLACIER", "bytes=0-1", "bytes=-5", "bytes=5-", "bytes=a-b", "AES256", "COPY",
    "REPLACE", "GOVERNANCE", "2030-01-01T00:00:00Z", "Wed, 21 Oct 2015 07:28:00 GMT", "CRC32",
    "AAAAAA==", "1B2M2Y8AsgTpgAmY7PcCXQ==", "private", "FULL_OBJECT", "COMPOSITE", "5",
]  # fmt: skip
XML_BODIES = [
    b"", b"<", b"<a/>", b"\xff\xfe", b"x" * 5000,
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
    b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    b"<Delete><Object><Key>k</Key></Object></Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
    b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><Days>99999999999</Days>"
    b"</Expiration></Rule></LifecycleConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
    b"</CORSRule></CORSConfiguration>",
    b'{"Version":"2012-10-17","Statement":[]}',
    b"<RestoreRequest><Days>1</Days></RestoreRequest>",
]  # fmt: skip
SQS_ACTIONS = [
    "CreateQueue", "GetQueueUrl", "ListQueues", "DeleteQueue", "PurgeQueue", "GetQueueAttributes",
    "SetQueueAttributes", "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage",
    "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "TagQueue",
    "UntagQueue", "ListQueueTags", "AddPermission", "RemovePermission", "ListDeadLetterSourceQueues",
    "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask", "Bogus",
]  # fmt: skip
SQS_FIELDS = [
    "QueueName", "QueueUrl", "Attributes", "MessageBody", "Entries", "MaxNumberOfMessages",
    "WaitTimeSeconds", "VisibilityTimeout", "ReceiptHandle", "DelaySeconds", "MessageAttributes",
    "MessageGroupId", "MessageDeduplicationId", "Tags", "TagKeys", "Label", "AWSAccountIds",
    "Actions", "AttributeNames", "QueueNamePrefix", "NextToken", "MaxResults", "SourceArn",
    "DestinationArn", "TaskHandle", "Id", "DataType", "StringValue", "Policy", "RedrivePolicy",
]  # fmt: skip
QUERY_ACTIONS = {
    "sns": ["CreateTopic", "Publish", "Subscribe", "SetTopicAttributes", "PublishBatch", "ListTopics",
            "DeleteTopic", "Unsubscribe", "ConfirmSubscription", "TagResource", "Bogus"],
    "iam": ["CreateUser", "CreateRole", "PutRolePolicy", "AttachRolePolicy", "CreatePolicy", "ListUsers",
            "GetUser", "CreateAccessKey", "SimulatePrincipalPolicy", "Bogus"],
    "sts": ["AssumeRole", "GetCallerIdentity", "GetSessionToken", "AssumeRoleWithWebIdentity", "Bogus"],
    "sqs": SQS_ACTIONS,
}  # fmt: skip
QUERY_NAMES = [
    "Name", "TopicArn", "Message", "Subject", "Protocol", "Endpoint", "UserName", "RoleName",
    "PolicyName", "PolicyDocument", "AssumeRolePolicyDocument", "RoleArn", "RoleSessionName",
    "DurationSeconds", "MessageAttributes.entry.1.Name", "MessageAttributes.entry.1.Value.DataType",
    "Attributes.entry.1.key", "Attributes.entry.1.value", "PublishBatchRequestEntries.member.1.Id",
    "Tags.member.1.Key", "PolicyArn", "QueueName", "MaxItems", "Marker", "Path",
    "PolicySourceArn", "ActionNames.member.1", "WebIdentityToken", "Token", "SubscriptionArn",
]  # fmt: skip
QUERY_VERSIONS = {"sns": "2010-03-31", "iam": "2010-05-08", "sts": "2011-06-15", "sqs": "2012-11-05"}


class RequestMaker:
    """Random requests from one seed."""

    def __init__(self, seed: int, bucket: str, queue_url: str) -> None:
        self.random = random.Random(seed)
        self.bucket = bucket
        self.queue_url = queue_url

    def s3(self) -> tuple[str, str, bytes, dict[str, str]]:
        pick = self.random.choice
        method = pick(["GET", "PUT", "POST", "DELETE", "HEAD", "GET", "PUT"])
        bucket = pick([self.bucket, self.bucket, "FZ", "xn--a", "fz-" + "a" * 70, "no-such-bucket-here"])
        key = pick(["k", "a/b", "../x", "", "k" * 1100, "é", "sp ace", "k+1", "\x01"])
        path = "/" + bucket + ("/" + quote(key, safe="/~") if key else pick(["", "/"]))
        query = [(pick(S3_SUBRESOURCES), pick(TEXT)) for _ in range(self.random.randint(0, 3))]
        if query:
            path += "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in query)
        headers = {pick(S3_HEADERS): pick(HEADER_VALUES) for _ in range(self.random.randint(0, 3))}
        body = pick(XML_BODIES) if method in ("PUT", "POST") else b""
        return method, path, body, headers

    def sqs_json(self) -> tuple[bytes, dict[str, str]]:
        document = {
            self.random.choice(SQS_FIELDS): self._json_value(0) for _ in range(self.random.randint(0, 5))
        }
        if self.random.random() < 0.6:
            document["QueueUrl"] = self.random.choice([self.queue_url, self.queue_url + "x", "../x"])
        body = json.dumps(document).encode()
        if self.random.random() < 0.1:
            body = self.random.choice(
                [b"{", b"[]", b"\xff", b"null", b'{"a":' * 50, b'{"QueueName":"\xed\xa0\x80"}']
            )
        action = self.random.choice(SQS_ACTIONS)
        return body, {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action}

    def query(self) -> tuple[str, bytes]:
        service = self.random.choice(sorted(QUERY_ACTIONS))
        params = [
            ("Action", self.random.choice(QUERY_ACTIONS[service])),
            ("Version", QUERY_VERSIONS[service]),
        ]
        for _ in range(self.random.randint(0, 6)):
            params.append((self.random.choice(QUERY_NAMES), self.random.choice(TEXT)))
        return service, urlencode(params).encode()

    def _json_value(self, depth: int) -> Any:
        roll = self.random.random()
        if roll < 0.35:
            return self.random.choice([*TEXT, "fz", "fz.fifo", self.queue_url, "All"])
        if roll < 0.5:
            return self.random.choice([0, -1, 1, 10, 11, 43200, 2**63, 1.5, True, None])
        if depth > 2:
            return "x"
        if roll < 0.75:
            return {
                self.random.choice(SQS_FIELDS): self._json_value(depth + 1)
                for _ in range(self.random.randint(0, 4))
            }
        return [self._json_value(depth + 1) for _ in range(self.random.randint(0, 12))]


@pytest.fixture
def targets(s3: Any, sqs: Any) -> tuple[str, str]:
    bucket = f"fuzz-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=KEPT, Body=b"precious")
    return bucket, sqs.create_queue(QueueName=f"fuzz-{uuid.uuid4().hex[:10]}")["QueueUrl"]


def _server_fault(response: RawResponse) -> bool:
    return response.status >= 500 and response.status != 501


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_signed_requests_get_client_errors_not_server_errors(
    server: ServerProcess, s3: Any, targets: tuple[str, str], seed: int
) -> None:
    bucket, queue_url = targets
    maker = RequestMaker(seed, bucket, queue_url)
    faults: list[str] = []
    for _ in range(REQUESTS_PER_SEED):
        kind = maker.random.choice(["s3", "s3", "sqs", "query"])
        if kind == "s3":
            method, path, body, headers = maker.s3()
            response = signed_send(server.endpoint, method, path, body, service="s3", headers=headers)
            described = f"{method} {path} {headers}"
        elif kind == "sqs":
            body, headers = maker.sqs_json()
            response = signed_send(server.endpoint, "POST", "/", body, service="sqs", headers=headers)
            described = f"{headers['X-Amz-Target']} {body[:200]!r}"
        else:
            service, body = maker.query()
            form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            response = signed_send(server.endpoint, "POST", "/", body, service=service, headers=form)
            described = f"{service} {body[:200]!r}"
        if _server_fault(response):
            faults.append(f"{response.status} for {described}: {response.body[:300]!r}")
    assert faults == []
    assert s3.get_object(Bucket=bucket, Key=KEPT)["Body"].read() == b"precious"
