"""IAM enforced per account: by the settings (``--enforce-iam-accounts``) and switched on and off
while running (``POST /_kumoi/enforcement``); a request is evaluated when the caller's account or
the account owning the resource is enforced."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from tests.integration.iam.conftest import CONFIGURED_ACCOUNT, Account, set_enforcement, unique
from tests.integration.iam.test_enforcement import denied
from tests.support.access import policy_document
from tests.support.server import ServerProcess


def test_switching_an_account_on_and_off(per_account: ServerProcess) -> None:
    first, second = Account(per_account.endpoint), Account(per_account.endpoint)
    first_user = first.client("sqs", first.user())
    second_user = second.client("sqs", second.user())
    first_user.create_queue(QueueName=unique("before"))

    first.enforce()
    message = denied(first_user.create_queue, QueueName=unique("q"))
    assert "because no identity-based policy allows the sqs:CreateQueue action" in message
    second_user.create_queue(QueueName=unique("unenforced"))
    first.root("sqs").create_queue(QueueName=unique("root"))
    with urllib.request.urlopen(f"{per_account.endpoint}/_kumoi/enforcement", timeout=5) as response:
        state = json.loads(response.read())
    assert first.id in state["accounts"] and second.id not in state["accounts"]
    assert state["configured"] == [CONFIGURED_ACCOUNT] and state["everyone"] is False

    first.enforce(False)
    first_user.create_queue(QueueName=unique("after"))


def test_settings_enforce_their_accounts_for_good(per_account: ServerProcess) -> None:
    configured = Account(per_account.endpoint, CONFIGURED_ACCOUNT)
    user = configured.client("sns", configured.user())
    denied(user.create_topic, Name=unique("t"))
    status, answer = set_enforcement(per_account.endpoint, CONFIGURED_ACCOUNT, False)
    assert status == 409 and "settings" in answer["error"]
    denied(user.create_topic, Name=unique("t"))


@pytest.mark.parametrize(
    "body",
    [
        b'{"account": "123", "enforce": true}',
        b'{"enforce": true}',
        b"[]",
        b'{"account": "123456789012", "enforce": 1}',
    ],
)
def test_bad_switch_requests(per_account: ServerProcess, body: bytes) -> None:
    request = urllib.request.Request(f"{per_account.endpoint}/_kumoi/enforcement", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400


def test_cross_account_access_to_an_enforced_account(per_account: ServerProcess) -> None:
    owner, visitor = Account(per_account.endpoint), Account(per_account.endpoint)
    owner.enforce()
    url = owner.root("sqs").create_queue(QueueName=unique("shared"))["QueueUrl"]
    queue_arn = owner.root("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    message = denied(visitor.root("sqs").send_message, QueueUrl=url, MessageBody="hello")
    assert message == (
        f"User: arn:aws:iam::{visitor.id}:root is not authorized to perform: sqs:SendMessage on resource: "
        f"{queue_arn} because no resource-based policy allows the sqs:SendMessage action"
    )
    policy = policy_document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": visitor.id},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        }
    )
    owner.root("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    visitor.root("sqs").send_message(QueueUrl=url, MessageBody="hello")
    # A visitor's user needs its own identity policy only where IAM is enforced for its account.
    visitor_user = visitor.client("sqs", visitor.user())
    visitor_user.send_message(QueueUrl=url, MessageBody="hello")
    visitor.enforce()
    message = denied(visitor_user.send_message, QueueUrl=url, MessageBody="hello")
    assert "because no identity-based policy allows the sqs:SendMessage action" in message


def test_an_enforced_account_reaching_out_is_evaluated(per_account: ServerProcess) -> None:
    enforced, open_account = Account(per_account.endpoint), Account(per_account.endpoint)
    sqs = open_account.root("sqs")
    url = sqs.create_queue(QueueName=unique("open"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": enforced.id},
        "Action": "sqs:SendMessage",
        "Resource": arn,
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy_document(grant)})
    user = enforced.client("sqs", enforced.user())
    user.send_message(QueueUrl=url, MessageBody="before")
    enforced.enforce()
    denied(user.send_message, QueueUrl=url, MessageBody="after")
    enforced.root("sqs").send_message(QueueUrl=url, MessageBody="root")
    sqs.send_message(QueueUrl=url, MessageBody="owner")


def test_anonymous_requests_stay_refused(per_account: ServerProcess) -> None:
    owner = Account(per_account.endpoint)
    bucket = unique("anon")
    owner.root("s3").create_bucket(Bucket=bucket)
    owner.root("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    for enforce in (False, True):
        owner.enforce(enforce)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{per_account.endpoint}/{bucket}/k", timeout=5)
        assert caught.value.code == 403


def test_a_server_enforcing_nothing_never_loads_the_policy_engine() -> None:
    script = textwrap.dedent(
        """
        import sys, boto3, kumoi.testing
        with kumoi.testing.server() as endpoint:
            session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
            s3 = session.client("s3", endpoint_url=endpoint.url, region_name="us-east-1")
            s3.create_bucket(Bucket="lazy")
            s3.put_object(Bucket="lazy", Key="k", Body=b"x")
            print("kumoi.services.iam.authorizer" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
