"""The AWS managed policies kumoi ships, with their real ARNs.

The documents are AWS's published policy text. ``ReadOnlyAccess`` is AWS's policy restricted to
the services kumoi serves (the published one lists every AWS service); the others are complete.
AWS managed policies live in the pseudo-account ``aws`` and cannot be changed or deleted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kumoi.services.iam.names import POLICY_PREFIX

AWS_POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy/"
#: When AWS's versions of these documents were published (they carry that date as CreateDate).
_CREATED = 1423175722.0  # 2015-02-06T18:39:46Z
_UPDATED = 1700000000.0

_DOCUMENTS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "AdministratorAccess": (
        "Provides full access to AWS services and resources.",
        [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    ),
    "PowerUserAccess": (
        "Provides full access to AWS services and resources, but does not allow management of Users "
        "and groups.",
        [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "account:GetAccountInformation",
                    "account:GetPrimaryEmail",
                    "account:ListRegions",
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                ],
                "Resource": "*",
            },
        ],
    ),
    "ReadOnlyAccess": (
        "Provides read-only access to AWS services and resources.",
        [
            {
                "Sid": "ReadOnlyActions",
                "Effect": "Allow",
                "Action": [
                    "iam:Generate*",
                    "iam:Get*",
                    "iam:List*",
                    "iam:Simulate*",
                    "s3:Describe*",
                    "s3:Get*",
                    "s3:List*",
                    "sns:Check*",
                    "sns:Get*",
                    "sns:List*",
                    "sqs:Get*",
                    "sqs:List*",
                    "sqs:Receive*",
                    "sts:GetCallerIdentity",
                ],
                "Resource": "*",
            }
        ],
    ),
    "AmazonS3FullAccess": (
        "Provides full access to all buckets via the AWS Management Console.",
        [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
    ),
    "AmazonS3ReadOnlyAccess": (
        "Provides read only access to all buckets via the AWS Management Console.",
        [
            {
                "Effect": "Allow",
                "Action": [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ],
                "Resource": "*",
            }
        ],
    ),
    "AmazonSQSFullAccess": (
        "Provides full access to Amazon SQS via the AWS Management Console.",
        [{"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}],
    ),
    "AmazonSNSFullAccess": (
        "Provides full access to Amazon SNS via the AWS Management Console.",
        [{"Action": ["sns:*"], "Effect": "Allow", "Resource": "*"}],
    ),
}


def _policy(name: str, description: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=4)
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return {
        "PolicyName": name,
        "PolicyId": POLICY_PREFIX + "".join(c for c in digest if c.isalpha() or c in "234567")[:17],
        "Arn": AWS_POLICY_ARN_PREFIX + name,
        "Path": "/",
        "DefaultVersionId": "v1",
        "IsAttachable": True,
        "Description": description,
        "CreateDate": _CREATED,
        "UpdateDate": _UPDATED,
        "Versions": {"v1": {"Document": text, "VersionId": "v1", "CreateDate": _CREATED}},
        "NextVersion": 2,
        "Tags": [],
        "AwsManaged": True,
    }


#: AWS managed policies by ARN.
AWS_MANAGED: dict[str, dict[str, Any]] = {
    AWS_POLICY_ARN_PREFIX + name: _policy(name, description, statements)
    for name, (description, statements) in _DOCUMENTS.items()
}
