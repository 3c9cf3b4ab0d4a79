"""What S3 answers for a key or a bucket that does not exist, where IAM policies decide.

S3 answers a read of a missing key with ``404 NoSuchKey`` only to a caller allowed
``s3:ListBucket`` on the bucket and with ``403 AccessDenied`` to the rest, so a caller without it
cannot probe which keys exist (GetObject API reference, "Permissions"). That holds wherever the
policy engine decides the request: an enforced account's users, another account's callers and
anonymous callers admitted by a bucket policy. The owner's root user, and any caller of an
account IAM is not enforced for, reading its own bucket, get 404. A bucket that does not exist is
``NoSuchBucket`` to anyone, anonymous callers included."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Account, unique
from tests.support.access import anonymous_client, policy_document
from tests.support.server import ServerProcess, running_server

#: A bucket policy change reaches the authorizer within its cache time (one second).
POLICY_DELAY = 5.0
#: The object reads that answer 403 or 404 for a missing key.
READS = ("s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectAcl")


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that enforces IAM for no account and lets any 12-digit key in as its root."""
    data_dir = tmp_path_factory.mktemp("kumoi-missing-keys") / "data"
    with running_server(data_dir, args=("--accept-any-key",)) as process:
        yield process


def failure(call: Callable[..., Any], **kwargs: Any) -> tuple[int, str]:
    """The status and error code of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], str(response["Error"]["Code"])


def missing_key_answers(s3: Any, bucket: str) -> list[tuple[int, str]]:
    """GetObject, HeadObject, GetObjectTagging and GetObjectAcl of a key that does not exist.
    HEAD has no body, so botocore's code is the status."""
    key = unique("absent")
    return [
        failure(s3.get_object, Bucket=bucket, Key=key),
        failure(s3.head_object, Bucket=bucket, Key=key),
        failure(s3.get_object_tagging, Bucket=bucket, Key=key),
        failure(s3.get_object_acl, Bucket=bucket, Key=key),
    ]


DENIED = [(403, "AccessDenied"), (403, "403"), (403, "AccessDenied"), (403, "AccessDenied")]
NOT_FOUND = [(404, "NoSuchKey"), (404, "404"), (404, "NoSuchKey"), (404, "NoSuchKey")]


def eventually(expected: list[tuple[int, str]], s3: Any, bucket: str) -> None:
    """The missing-key answers become ``expected`` once a bucket policy change has applied."""
    deadline = time.monotonic() + POLICY_DELAY
    while (answers := missing_key_answers(s3, bucket)) != expected:
        assert time.monotonic() < deadline, answers
        time.sleep(0.1)


def filled_bucket(s3: Any) -> str:
    bucket = unique("keys")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="present", Body=b"here")
    return bucket


def unsigned(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- IAM enforced for the account --------------------------------------------------------------


def test_enforced_user_learns_a_key_is_missing_only_with_list_bucket(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    owner.enforce()
    bucket = filled_bucket(owner.root("s3"))
    reads = {"Effect": "Allow", "Action": list(READS), "Resource": f"arn:aws:s3:::{bucket}/*"}
    key = owner.user(policy_document(reads))
    s3 = owner.client("s3", key)
    assert s3.get_object(Bucket=bucket, Key="present")["Body"].read() == b"here"
    assert missing_key_answers(s3, bucket) == DENIED
    # The owner's root user may list the bucket: it learns that the key is missing.
    assert missing_key_answers(owner.root("s3"), bucket) == NOT_FOUND
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
    owner.root("iam").put_user_policy(
        UserName=key["UserName"], PolicyName="inline", PolicyDocument=policy_document(reads, listing)
    )
    assert missing_key_answers(s3, bucket) == NOT_FOUND


def test_list_bucket_on_another_bucket_does_not_count(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    owner.enforce()
    bucket = filled_bucket(owner.root("s3"))
    policy = policy_document(
        {"Effect": "Allow", "Action": list(READS), "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}-other"},
    )
    assert missing_key_answers(owner.client("s3", owner.user(policy)), bucket) == DENIED


def test_a_denied_read_stays_denied_for_a_missing_key(per_account: ServerProcess) -> None:
    """Without s3:GetObject the request is refused before the key is looked for."""
    owner = Account(per_account.endpoint)
    owner.enforce()
    bucket = filled_bucket(owner.root("s3"))
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
    s3 = owner.client("s3", owner.user(policy_document(listing)))
    assert failure(s3.get_object, Bucket=bucket, Key="absent") == (403, "AccessDenied")


def test_unenforced_account_learns_a_key_is_missing(per_account: ServerProcess) -> None:
    """IAM enforced for some other account: this one's users do everything at home."""
    owner = Account(per_account.endpoint)
    bucket = filled_bucket(owner.root("s3"))
    assert missing_key_answers(owner.root("s3"), bucket) == NOT_FOUND
    assert missing_key_answers(owner.client("s3", owner.user()), bucket) == NOT_FOUND


def test_enforced_user_gets_no_such_bucket(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    owner.enforce()
    everything = policy_document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    s3 = owner.client("s3", owner.user(everything))
    assert failure(s3.get_object, Bucket=unique("nowhere"), Key="k") == (404, "NoSuchBucket")


# --- IAM enforced for no account -----------------------------------------------------------------


def test_same_account_learns_a_key_is_missing(open_server: ServerProcess) -> None:
    owner = Account(open_server.endpoint)
    bucket = filled_bucket(owner.root("s3"))
    assert missing_key_answers(owner.root("s3"), bucket) == NOT_FOUND
    assert missing_key_answers(owner.client("s3", owner.user()), bucket) == NOT_FOUND


def test_another_account_needs_list_bucket_from_the_bucket_policy(open_server: ServerProcess) -> None:
    owner, visitor = Account(open_server.endpoint), Account(open_server.endpoint)
    s3 = owner.root("s3")
    bucket = filled_bucket(s3)
    reads = {
        "Effect": "Allow",
        "Principal": {"AWS": visitor.id},
        "Action": list(READS),
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_document(reads))
    guest = visitor.root("s3")
    eventually(DENIED, guest, bucket)
    assert guest.get_object(Bucket=bucket, Key="present")["Body"].read() == b"here"
    listing = {
        "Effect": "Allow",
        "Principal": {"AWS": visitor.id},
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_document(reads, listing))
    eventually(NOT_FOUND, guest, bucket)


def public_get(bucket: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def check_anonymous_missing_key(endpoint: str, owner: Account) -> None:
    """A public-read bucket (s3:GetObject for "*") hides which keys exist until its policy also
    lets anyone list it."""
    s3 = owner.root("s3")
    bucket = filled_bucket(s3)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_document(public_get(bucket)))
    guest = anonymous_client(endpoint)
    deadline = time.monotonic() + POLICY_DELAY
    while unsigned(f"{endpoint}/{bucket}/present")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    status, body = unsigned(f"{endpoint}/{bucket}/absent")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert unsigned(f"{endpoint}/{bucket}/absent", "HEAD") == (403, b"")
    assert failure(guest.get_object, Bucket=bucket, Key="absent") == (403, "AccessDenied")
    listing = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=policy_document(public_get(bucket), listing))
    deadline = time.monotonic() + POLICY_DELAY
    while (status := unsigned(f"{endpoint}/{bucket}/absent")[0]) != 404:
        assert status == 403 and time.monotonic() < deadline
        time.sleep(0.1)
    status, body = unsigned(f"{endpoint}/{bucket}/absent")
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body
    assert unsigned(f"{endpoint}/{bucket}/absent", "HEAD") == (404, b"")
    assert failure(guest.head_object, Bucket=bucket, Key="absent") == (404, "404")


def check_anonymous_missing_bucket(endpoint: str) -> None:
    bucket = unique("nowhere")
    status, body = unsigned(f"{endpoint}/{bucket}/key")
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body
    assert unsigned(f"{endpoint}/{bucket}/key", "HEAD") == (404, b"")
    guest = anonymous_client(endpoint)
    assert failure(guest.get_object, Bucket=bucket, Key="key") == (404, "NoSuchBucket")
    assert failure(guest.list_objects_v2, Bucket=bucket) == (404, "NoSuchBucket")
    # What needs no bucket stays refused.
    assert failure(guest.create_bucket, Bucket=bucket) == (403, "AccessDenied")
    assert failure(guest.list_buckets) == (403, "AccessDenied")


def test_anonymous_caller_needs_public_list_bucket(open_server: ServerProcess) -> None:
    check_anonymous_missing_key(open_server.endpoint, Account(open_server.endpoint))


def test_anonymous_caller_gets_no_such_bucket(open_server: ServerProcess) -> None:
    check_anonymous_missing_bucket(open_server.endpoint)


def test_anonymous_caller_with_the_owner_enforced(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    owner.enforce()
    check_anonymous_missing_key(per_account.endpoint, owner)
    check_anonymous_missing_bucket(per_account.endpoint)
