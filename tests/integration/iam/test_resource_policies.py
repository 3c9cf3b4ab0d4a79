"""Resource policies open resources to other accounts and to anonymous callers, whether or not IAM
is enforced: a bucket, queue or topic of account A is reachable from account B only where its
policy allows B (an explicit Deny wins), and an unsigned S3 request only where the bucket policy
is public and Block Public Access lets it apply. B's own identity policies count where IAM is
enforced for B."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Account, unique
from tests.support.access import anonymous_client, policy_document, public_read_policy
from tests.support.server import ServerProcess, running_server

#: A bucket policy change reaches the authorizer within its cache time (one second).
POLICY_DELAY = 5.0


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that enforces IAM for no account and lets any 12-digit key in as its root."""
    data_dir = tmp_path_factory.mktemp("kumoi-resource-policies") / "data"
    with running_server(data_dir, args=("--accept-any-key",)) as process:
        yield process


def denied(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied", error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(error["Message"])


def eventually(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call``'s answer once a policy change has applied (retried for at most POLICY_DELAY)."""
    deadline = time.monotonic() + POLICY_DELAY
    while True:
        try:
            return call(*args, **kwargs)
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def eventually_denied(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    deadline = time.monotonic() + POLICY_DELAY
    while time.monotonic() < deadline:
        try:
            call(*args, **kwargs)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied", error.response
            return
        time.sleep(0.1)
    pytest.fail(f"{call} was still allowed after {POLICY_DELAY} seconds")


def shared_bucket(owner: Account, visitor: str) -> str:
    """A bucket of ``owner`` whose policy lets account ``visitor`` read under ``public/`` (and
    list it), write under ``uploads/``, but never read ``public/secret/``."""
    s3 = owner.root("s3")
    bucket = unique("shared")
    s3.create_bucket(Bucket=bucket)
    for key in ("public/report.csv", "public/secret/plan.txt", "private/notes.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy_document(
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{visitor}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            },
            {
                "Sid": "List",
                "Effect": "Allow",
                "Principal": {"AWS": visitor},
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": "public/*"}},
            },
            {
                "Sid": "Upload",
                "Effect": "Allow",
                "Principal": {"AWS": visitor},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/uploads/*",
            },
            {
                "Sid": "NoSecrets",
                "Effect": "Deny",
                "Principal": {"AWS": visitor},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/secret/*",
            },
        ),
    )
    return bucket


def check_shared_bucket(owner: Account, bucket: str, s3: Any) -> None:
    """What the visitor's client ``s3`` may and may not do in :func:`shared_bucket`."""
    read = eventually(s3.get_object, Bucket=bucket, Key="public/report.csv")
    assert read["Body"].read() == b"public/report.csv"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="public/")["Contents"]
    assert [item["Key"] for item in listed] == ["public/report.csv", "public/secret/plan.txt"]
    s3.put_object(Bucket=bucket, Key="uploads/from-visitor", Body=b"hello")
    assert owner.root("s3").get_object(Bucket=bucket, Key="uploads/from-visitor")["Body"].read() == b"hello"
    assert denied(s3.get_object, Bucket=bucket, Key="private/notes.txt") == "Access Denied"
    denied(s3.get_object, Bucket=bucket, Key="public/secret/plan.txt")
    denied(s3.list_objects_v2, Bucket=bucket)
    denied(s3.put_object, Bucket=bucket, Key="elsewhere", Body=b"x")
    denied(s3.delete_object, Bucket=bucket, Key="public/report.csv")
    denied(s3.get_bucket_policy, Bucket=bucket)


# --- IAM enforced for no account ------------------------------------------------------------


def test_bucket_policy_opens_a_bucket_to_another_account(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    other = unique("other")
    owner.root("s3").create_bucket(Bucket=other)
    owner.root("s3").put_object(Bucket=other, Key="k", Body=b"x")
    s3 = visitor.root("s3")
    assert denied(s3.get_object, Bucket=other, Key="k") == "Access Denied"
    bucket = shared_bucket(owner, visitor.id)
    check_shared_bucket(owner, bucket, s3)
    denied(s3.get_object, Bucket=other, Key="k")
    denied(s3.list_objects_v2, Bucket=other)
    # A third account gets nothing; the owner's own requests work as before.
    denied(Account(open_server.endpoint).root("s3").get_object, Bucket=bucket, Key="public/report.csv")
    assert owner.root("s3").get_object(Bucket=bucket, Key="private/notes.txt")["Body"].read()


def test_copying_out_of_a_shared_bucket(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    bucket = shared_bucket(owner, visitor.id)
    s3 = visitor.root("s3")
    mine = unique("mine")
    s3.create_bucket(Bucket=mine)
    s3.copy_object(Bucket=mine, Key="copy", CopySource={"Bucket": bucket, "Key": "public/report.csv"})
    assert s3.get_object(Bucket=mine, Key="copy")["Body"].read() == b"public/report.csv"
    denied(s3.copy_object, Bucket=mine, Key="c2", CopySource={"Bucket": bucket, "Key": "private/notes.txt"})
    # The owner cannot write into the visitor's bucket either.
    denied(owner.root("s3").put_object, Bucket=mine, Key="k", Body=b"x")


def test_removing_the_grant_closes_the_bucket_again(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    bucket = shared_bucket(owner, visitor.id)
    s3 = visitor.root("s3")
    s3.get_object(Bucket=bucket, Key="public/report.csv")
    owner.root("s3").delete_bucket_policy(Bucket=bucket)
    eventually_denied(s3.get_object, Bucket=bucket, Key="public/report.csv")


def test_queue_policy_opens_a_queue_to_another_account(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    sqs = owner.root("sqs")
    url = sqs.create_queue(QueueName=unique("jobs"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    guest = visitor.root("sqs")
    message = denied(guest.send_message, QueueUrl=url, MessageBody="hello")
    assert message == (
        f"User: arn:aws:iam::{visitor.id}:root is not authorized to perform: sqs:SendMessage on "
        f"resource: {arn} because no resource-based policy allows the sqs:SendMessage action"
    )
    denied(guest.get_queue_url, QueueName=arn.rsplit(":", 1)[1], QueueOwnerAWSAccountId=owner.id)
    policy = policy_document(
        {"Effect": "Allow", "Principal": {"AWS": visitor.id}, "Action": "sqs:SendMessage", "Resource": arn}
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    guest.send_message(QueueUrl=url, MessageBody="hello")
    denied(guest.receive_message, QueueUrl=url)
    denied(guest.purge_queue, QueueUrl=url)
    [received] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert received["Body"] == "hello"
    denied(Account(open_server.endpoint).root("sqs").send_message, QueueUrl=url, MessageBody="x")


def test_topic_policy_opens_a_topic_to_another_account(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    sns = owner.root("sns")
    topic = sns.create_topic(Name=unique("events"))["TopicArn"]
    guest = visitor.root("sns")
    denied(guest.publish, TopicArn=topic, Message="hello")
    sns.add_permission(TopicArn=topic, Label="visitor", AWSAccountId=[visitor.id], ActionName=["Publish"])
    assert guest.publish(TopicArn=topic, Message="hello")["MessageId"]
    denied(guest.delete_topic, TopicArn=topic)
    denied(guest.get_topic_attributes, TopicArn=topic)


# --- anonymous callers -----------------------------------------------------------------------


def unsigned_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_public_bucket(endpoint: str, owner: Account) -> None:
    s3 = owner.root("s3")
    bucket = unique("website")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>hi</h1>")
    status, body = unsigned_get(f"{endpoint}/{bucket}/index.html")
    assert status == 403 and b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in body
    # New buckets block public policies.
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    guest = anonymous_client(endpoint)
    assert eventually(guest.get_object, Bucket=bucket, Key="index.html")["Body"].read() == b"<h1>hi</h1>"
    assert unsigned_get(f"{endpoint}/{bucket}/index.html") == (200, b"<h1>hi</h1>")
    assert denied(guest.list_objects_v2, Bucket=bucket) == "Access Denied"
    denied(guest.put_object, Bucket=bucket, Key="index.html", Body=b"defaced")
    denied(guest.delete_object, Bucket=bucket, Key="index.html")
    denied(guest.list_buckets)
    denied(guest.create_bucket, Bucket=unique("anon"))
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<h1>hi</h1>"
    # RestrictPublicBuckets keeps the stored public policy from applying.
    flags = {"BlockPublicPolicy": False, "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=flags)
    eventually_denied(guest.get_object, Bucket=bucket, Key="index.html")


def test_anonymous_reads_of_a_public_bucket(open_server: ServerProcess) -> None:
    check_public_bucket(open_server.endpoint, Account(open_server.endpoint))


def test_anonymous_requests_to_other_services_stay_refused(open_server: ServerProcess) -> None:
    owner = Account(open_server.endpoint)
    sqs = owner.root("sqs")
    url = sqs.create_queue(QueueName=unique("open"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": policy_document(
                {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": arn}
            )
        },
    )
    guest = anonymous_client(open_server.endpoint, "sqs")
    with pytest.raises(ClientError) as caught:
        guest.send_message(QueueUrl=url, MessageBody="x")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- IAM enforced for the owner or the visitor -----------------------------------------------


def test_enforced_owner_opens_its_bucket_by_policy(per_account: ServerProcess) -> None:
    owner, visitor = Account(per_account.endpoint), Account(per_account.endpoint)
    owner.enforce()
    bucket = shared_bucket(owner, visitor.id)
    # The visitor's account is not enforced: its users need no identity policy of their own.
    user = visitor.client("s3", visitor.user())
    check_shared_bucket(owner, bucket, user)
    check_shared_bucket(owner, bucket, visitor.root("s3"))


def test_enforced_visitor_needs_its_own_identity_policy(per_account: ServerProcess) -> None:
    owner, visitor = Account(per_account.endpoint), Account(per_account.endpoint)
    bucket = shared_bucket(owner, visitor.id)
    visitor.enforce()
    check_shared_bucket(owner, bucket, visitor.root("s3"))
    without = visitor.client("s3", visitor.user())
    denied(without.get_object, Bucket=bucket, Key="public/report.csv")
    allowed = policy_document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    check_shared_bucket(owner, bucket, visitor.client("s3", visitor.user(allowed)))
    # An identity policy alone opens nothing in another account.
    denied(visitor.client("s3", visitor.user(allowed)).get_object, Bucket=bucket, Key="private/notes.txt")


def test_enforced_visitor_sends_to_a_shared_queue(per_account: ServerProcess) -> None:
    owner, visitor = Account(per_account.endpoint), Account(per_account.endpoint)
    sqs = owner.root("sqs")
    url = sqs.create_queue(QueueName=unique("shared"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": visitor.id},
        "Action": "sqs:SendMessage",
        "Resource": arn,
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy_document(grant)})
    visitor.enforce()
    visitor.root("sqs").send_message(QueueUrl=url, MessageBody="root")
    denied(visitor.client("sqs", visitor.user()).send_message, QueueUrl=url, MessageBody="no policy")
    may_send = policy_document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    visitor.client("sqs", visitor.user(may_send)).send_message(QueueUrl=url, MessageBody="user")


def test_anonymous_reads_with_the_owner_enforced(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    owner.enforce()
    check_public_bucket(per_account.endpoint, owner)
