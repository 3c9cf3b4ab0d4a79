"""End to end with ``--enforce-iam``: identities made through IAM are allowed and denied as AWS
would allow and deny them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Identities, unique
from tests.support.access import anonymous_client, policy_document

ACCOUNT = "000000000000"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
SQS_FULL = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"


def denied(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(error["Message"])


@pytest.fixture(scope="module")
def admin(identities: Identities) -> dict[str, str]:
    return identities.user(unique("admin"), ADMIN)


def test_scenario_developer_and_operations(identities: Identities, admin: dict[str, str]) -> None:
    admin_iam = identities.client("iam", admin)
    admin_s3 = identities.client("s3", admin)
    bucket = unique("team-data")
    admin_s3.create_bucket(Bucket=bucket)
    admin_s3.put_object(Bucket=bucket, Key="reports/q1.csv", Body=b"numbers")

    developer = unique("developer")
    admin_iam.create_user(UserName=developer)
    admin_iam.attach_user_policy(UserName=developer, PolicyArn=S3_READ)
    dev_key = admin_iam.create_access_key(UserName=developer)["AccessKey"]
    dev_s3 = identities.client("s3", dev_key)
    assert dev_s3.get_object(Bucket=bucket, Key="reports/q1.csv")["Body"].read() == b"numbers"
    assert [o["Key"] for o in dev_s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["reports/q1.csv"]
    message = denied(dev_s3.put_object, Bucket=bucket, Key="reports/q2.csv", Body=b"x")
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{developer} is not authorized to perform: s3:PutObject on "
        f"resource: arn:aws:s3:::{bucket}/reports/q2.csv because no identity-based policy allows the "
        "s3:PutObject action"
    )
    denied(identities.client("sqs", dev_key).create_queue, QueueName=unique("q"))
    denied(identities.client("iam", dev_key).list_users)
    assert identities.client("sts", dev_key).get_caller_identity()["Arn"].endswith(f"user/{developer}")

    operators = unique("operations")
    role = unique("ops-role")
    admin_iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    admin_iam.attach_role_policy(RoleName=role, PolicyArn=SQS_FULL)
    admin_iam.create_group(GroupName=operators)
    admin_iam.put_group_policy(
        GroupName=operators,
        PolicyName="assume-ops",
        PolicyDocument=policy_document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}),
    )
    operator = unique("operator")
    admin_iam.create_user(UserName=operator)
    admin_iam.add_user_to_group(UserName=operator, GroupName=operators)
    operator_key = admin_iam.create_access_key(UserName=operator)["AccessKey"]

    session = identities.client("sts", operator_key).assume_role(RoleArn=role_arn, RoleSessionName="oncall")
    ops_sqs = identities.client("sqs", session["Credentials"])
    queue_url = ops_sqs.create_queue(QueueName=unique("jobs"))["QueueUrl"]
    ops_sqs.send_message(QueueUrl=queue_url, MessageBody="hello")
    message = denied(
        identities.client("s3", session["Credentials"]).get_object, Bucket=bucket, Key="reports/q1.csv"
    )
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/oncall is not authorized")

    message = denied(identities.client("sts", dev_key).assume_role, RoleArn=role_arn, RoleSessionName="sneak")
    assert "sts:AssumeRole" in message and role_arn in message
    admin_iam.remove_user_from_group(UserName=operator, GroupName=operators)
    denied(identities.client("sts", operator_key).assume_role, RoleArn=role_arn, RoleSessionName="again")


def test_explicit_deny_and_variables(identities: Identities, admin: dict[str, str]) -> None:
    bucket = unique("homes")
    identities.client("s3", admin).create_bucket(Bucket=bucket)
    name = unique("carol")
    key = identities.user(
        name,
        S3_READ,
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*",
                },
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/home/*/secret*",
                },
            ],
        },
    )
    s3 = identities.client("s3", key)
    s3.put_object(Bucket=bucket, Key=f"home/{name}/notes.txt", Body=b"mine")
    s3.put_object(Bucket=bucket, Key=f"home/{name}/secret.txt", Body=b"hidden")
    denied(s3.put_object, Bucket=bucket, Key="home/someone-else/notes.txt", Body=b"theirs")
    assert s3.get_object(Bucket=bucket, Key=f"home/{name}/notes.txt")["Body"].read() == b"mine"
    message = denied(s3.get_object, Bucket=bucket, Key=f"home/{name}/secret.txt")
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_boundaries_and_session_policies(identities: Identities, admin: dict[str, str]) -> None:
    bounded = unique("bounded")
    key = identities.user(bounded, ADMIN)
    identities.root_iam.put_user_permissions_boundary(UserName=bounded, PermissionsBoundary=SQS_FULL)
    identities.client("sqs", key).list_queues()
    message = denied(identities.client("s3", key).list_buckets)
    assert message.endswith("because no permissions boundary allows the s3:ListAllMyBuckets action")

    role = unique("narrowed")
    identities.root_iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=policy_document(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ),
    )
    identities.root_iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
    caller = identities.user(unique("assumer"), ADMIN)
    session = identities.client("sts", caller).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
        RoleSessionName="narrow",
        Policy=policy_document({"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}),
    )
    narrowed = identities.client("sqs", session["Credentials"])
    narrowed.list_queues()
    message = denied(narrowed.create_queue, QueueName=unique("q"))
    assert message.endswith("because no session policy allows the sqs:CreateQueue action")


def test_queue_policy_grants_and_denies(identities: Identities, admin: dict[str, str]) -> None:
    root_sqs = identities.client("sqs")
    queue_url = root_sqs.create_queue(QueueName=unique("shared"))["QueueUrl"]
    queue_arn = root_sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sender = unique("sender")
    key = identities.user(sender)
    sender_sqs = identities.client("sqs", key)
    denied(sender_sqs.send_message, QueueUrl=queue_url, MessageBody="before")
    policy = policy_document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{sender}"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:DeleteQueue", "Resource": queue_arn},
    )
    root_sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
    sender_sqs.send_message(QueueUrl=queue_url, MessageBody="after")
    denied(sender_sqs.receive_message, QueueUrl=queue_url)
    message = denied(root_sqs.delete_queue, QueueUrl=queue_url)
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_conditions_on_request_facts(identities: Identities) -> None:
    name = unique("office")
    key = identities.user(
        name,
        ADMIN,
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                },
                {
                    "Effect": "Deny",
                    "Action": "sqs:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
    )
    denied(identities.client("s3", key).list_buckets)
    denied(identities.client("sqs", key).list_queues)
    identities.client("iam", key).get_user(UserName=name)


def test_anonymous_requests_are_denied(identities: Identities, admin: dict[str, str]) -> None:
    bucket = unique("private")
    identities.client("s3", admin).create_bucket(Bucket=bucket)
    anonymous = anonymous_client(identities.endpoint)
    with pytest.raises(ClientError) as caught:
        anonymous.list_objects_v2(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["Error"]["Message"] == "Access Denied"  # S3 explains nothing to them


def test_simulation_matches_enforcement(identities: Identities) -> None:
    name = unique("sim")
    identities.user(name, S3_READ)
    results = identities.root_iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{name}", ActionNames=["s3:GetObject", "s3:PutObject"]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]


def test_revoking_older_sessions(identities: Identities) -> None:
    role = unique("revocable")
    identities.root_iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=policy_document(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ),
    )
    identities.root_iam.attach_role_policy(RoleName=role, PolicyArn=SQS_FULL)
    caller = identities.user(unique("revoker"), ADMIN)
    credentials = identities.client("sts", caller).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="old"
    )["Credentials"]
    identities.client("sqs", credentials).list_queues()
    identities.root_iam.put_role_policy(
        RoleName=role,
        PolicyName="AWSRevokeOlderSessions",
        PolicyDocument=policy_document(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2999-01-01T00:00:00Z"}},
            }
        ),
    )
    denied(identities.client("sqs", credentials).list_queues)
