"""SNS's authorization map: the action, resource and condition keys of each operation."""

from __future__ import annotations

from typing import Any

import pytest

from kumoi.core.context import Caller, RequestContext
from kumoi.protocol.spec import service_model
from kumoi.services.sns.authz import targets

ACCOUNT = "111111111111"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:events"
OTHER_TOPIC = "arn:aws:sns:eu-west-1:222222222222:alerts"


def ctx(operation: str) -> RequestContext:
    caller = Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDA", "AKIA", None, False)
    return RequestContext("r", "sns", operation, "us-east-1", caller, "http://localhost:4566", "localhost")


@pytest.mark.parametrize(
    ("operation", "params", "action", "resource", "owner"),
    [
        ("Publish", {"TopicArn": TOPIC, "Message": "m"}, "sns:Publish", TOPIC, ACCOUNT),
        ("Publish", {"TargetArn": OTHER_TOPIC, "Message": "m"}, "sns:Publish", OTHER_TOPIC, "222222222222"),
        ("Publish", {"PhoneNumber": "+15555550100", "Message": "m"}, "sns:Publish", "*", ""),
        ("PublishBatch", {"TopicArn": TOPIC}, "sns:Publish", TOPIC, ACCOUNT),
        ("CreateTopic", {"Name": "events"}, "sns:CreateTopic", TOPIC, ACCOUNT),
        ("DeleteTopic", {"TopicArn": OTHER_TOPIC}, "sns:DeleteTopic", OTHER_TOPIC, "222222222222"),
        ("AddPermission", {"TopicArn": TOPIC}, "sns:AddPermission", TOPIC, ACCOUNT),
        ("ListSubscriptionsByTopic", {"TopicArn": TOPIC}, "sns:ListSubscriptionsByTopic", TOPIC, ACCOUNT),
        ("ListTagsForResource", {"ResourceArn": TOPIC}, "sns:ListTagsForResource", TOPIC, ACCOUNT),
        ("ListTopics", {}, "sns:ListTopics", "*", ""),
        ("ListSubscriptions", {}, "sns:ListSubscriptions", "*", ""),
        ("Unsubscribe", {"SubscriptionArn": TOPIC + ":id"}, "sns:Unsubscribe", "*", ""),
        (
            "GetSubscriptionAttributes",
            {"SubscriptionArn": TOPIC + ":id"},
            "sns:GetSubscriptionAttributes",
            "*",
            "",
        ),
        ("CreatePlatformApplication", {"Name": "app"}, "sns:CreatePlatformApplication", "*", ""),
        ("DeleteTopic", {"TopicArn": "not-an-arn"}, "sns:DeleteTopic", "not-an-arn", ""),
    ],
)
def test_targets(operation: str, params: dict[str, Any], action: str, resource: str, owner: str) -> None:
    (target,) = targets(ctx(operation), params)
    assert (target.action, target.resource, target.resource_account) == (action, resource, owner)
    assert target.locator == ((resource,) if owner else None)


def test_every_operation_has_an_action() -> None:
    for operation in service_model("sns").operation_names:
        found = targets(ctx(operation), {})
        assert len(found) == 1
        assert found[0].action.startswith("sns:")


def test_subscribe_keys() -> None:
    (target,) = targets(ctx("Subscribe"), {"TopicArn": TOPIC, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:q"})
    assert target.context == {"sns:protocol": ["sqs"], "sns:endpoint": ["arn:aws:sqs:q"]}


def test_tag_keys() -> None:
    tags = [{"Key": "Team", "Value": "blue"}]
    (create,) = targets(ctx("CreateTopic"), {"Name": "events", "Tags": tags})
    assert create.context == {"aws:requesttag/team": ["blue"], "aws:tagkeys": ["Team"]}
    (tag,) = targets(ctx("TagResource"), {"ResourceArn": TOPIC, "Tags": tags})
    assert tag.context == create.context
    (untag,) = targets(ctx("UntagResource"), {"ResourceArn": TOPIC, "TagKeys": ["Team"]})
    assert untag.context == {"aws:tagkeys": ["Team"]}
