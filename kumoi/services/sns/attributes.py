"""Topic and subscription attributes: which may be set, their validation, and computed values."""

from __future__ import annotations

import json
import re
from typing import Any

from kumoi.services.sns import delivery_policy
from kumoi.services.sns.filter_policy import SCOPES, FilterPolicyError, compile_policy
from kumoi.services.sns.names import invalid
from kumoi.services.sns.registry import Subscription, Topic

#: Default and bounds of a topic's ``MaximumMessageSize`` (bytes of body plus attributes).
DEFAULT_MAX_MESSAGE_SIZE = 262_144
MIN_MAX_MESSAGE_SIZE = 1_024
MAX_MAX_MESSAGE_SIZE = 1_048_576
SIGNATURE_VERSIONS = ("1", "2")
_FEEDBACK = re.compile(r"(Application|HTTP|Firehose|Lambda|SQS)(Success|Failure)Feedback(RoleArn|SampleRate)")
#: Topic attributes SetTopicAttributes accepts (``FifoTopic`` only at creation).
TOPIC_SETTABLE = frozenset(
    {
        "DisplayName",
        "Policy",
        "DeliveryPolicy",
        "KmsMasterKeyId",
        "SignatureVersion",
        "TracingConfig",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "FifoThroughputScope",
        "DataProtectionPolicy",
        "MaximumMessageSize",
    }
)
#: Subscription attributes Subscribe and SetSubscriptionAttributes accept.
SUBSCRIPTION_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
RAW_PROTOCOLS = frozenset({"http", "https", "sqs", "firehose"})
DEFAULT_EFFECTIVE_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": delivery_policy.DEFAULT_RETRY_POLICY,
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}
_DEFAULT_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


def default_policy(topic_arn: str, account_id: str) -> str:
    """The access policy AWS gives a new topic: the owner account may do everything."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": _DEFAULT_ACTIONS,
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
                }
            ],
        }
    )


def _boolean(name: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise invalid(f"Attributes Reason: {name}: Invalid value [{value}]. Must be true or false.")
    return value.lower()


def _json_object(name: str, value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except ValueError:
        raise invalid(f"Attributes Reason: {name}: failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise invalid(f"Attributes Reason: {name}: must be a JSON object.")
    return document


def check_topic_attribute(name: str, value: str, fifo: bool, creating: bool) -> str:
    """The value to store for a topic attribute, or the AWS error."""
    if name == "FifoTopic":
        if not creating:
            raise invalid("AttributeName")
        return _boolean(name, value)
    if name not in TOPIC_SETTABLE and not _FEEDBACK.fullmatch(name):
        raise invalid("AttributeName")
    if name == "ContentBasedDeduplication":
        if not fifo:
            raise invalid(
                "ContentBasedDeduplication Reason: Content based deduplication can only be set for "
                "FIFO topics"
            )
        return _boolean(name, value)
    if name == "Policy":
        _json_object(name, value)
    elif name == "DeliveryPolicy" and value:
        try:
            delivery_policy.parse_topic_policy(value)
        except delivery_policy.DeliveryPolicyError as exc:
            raise invalid(f"DeliveryPolicy: {exc}") from None
    elif name == "SignatureVersion" and value not in SIGNATURE_VERSIONS:
        raise invalid("SignatureVersion")
    elif name == "MaximumMessageSize":
        if not value.isdigit() or not MIN_MAX_MESSAGE_SIZE <= int(value) <= MAX_MAX_MESSAGE_SIZE:
            raise invalid(
                f"MaximumMessageSize Reason: must be between {MIN_MAX_MESSAGE_SIZE} and "
                f"{MAX_MAX_MESSAGE_SIZE}"
            )
    elif name == "DisplayName" and len(value) > 100:
        raise invalid("DisplayName")
    return value


def topic_attributes(topic: Topic) -> dict[str, str]:
    """What GetTopicAttributes answers: the stored attributes, defaults and computed counts."""
    subscriptions = topic.subscriptions.values()
    confirmed = sum(1 for s in subscriptions if s.confirmed)
    attributes = {
        "TopicArn": topic.arn,
        "Owner": topic.account_id,
        "Policy": default_policy(topic.arn, topic.account_id),
        "DisplayName": "",
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsPending": str(len(topic.subscriptions) - confirmed),
        "SubscriptionsDeleted": str(topic.deleted_subscriptions),
        "EffectiveDeliveryPolicy": json.dumps(DEFAULT_EFFECTIVE_DELIVERY_POLICY),
    }
    if topic.fifo:
        attributes["FifoTopic"] = "true"
        attributes["ContentBasedDeduplication"] = "false"
    attributes.update(topic.attributes)
    if topic.attributes.get("DeliveryPolicy"):
        effective = json.loads(json.dumps(DEFAULT_EFFECTIVE_DELIVERY_POLICY))
        effective["http"].update(json.loads(topic.attributes["DeliveryPolicy"]).get("http", {}))
        attributes["EffectiveDeliveryPolicy"] = json.dumps(effective)
    return attributes


def max_message_size(topic: Topic) -> int:
    return int(topic.attributes.get("MaximumMessageSize", DEFAULT_MAX_MESSAGE_SIZE))


def check_subscription_attribute(name: str, value: str, protocol: str, scope: str | None) -> str:
    """The value to store for a subscription attribute, or the AWS error. ``scope`` is the
    subscription's (or the same request's) ``FilterPolicyScope`` for checking a FilterPolicy."""
    if name not in SUBSCRIPTION_SETTABLE:
        raise invalid("AttributeName")
    if name == "RawMessageDelivery":
        if protocol not in RAW_PROTOCOLS:
            raise invalid(f"Delivery protocol [{protocol}] does not support raw message delivery.")
        return _boolean(name, value)
    if name == "FilterPolicyScope":
        if value not in SCOPES:
            raise invalid(
                "Attributes Reason: FilterPolicyScope: Invalid value [" + value + "]. "
                "Please use either MessageBody or MessageAttributes"
            )
    elif name == "FilterPolicy" and value:
        try:
            compile_policy(value, scope or SCOPES[0])
        except FilterPolicyError as exc:
            raise invalid(f"FilterPolicy: {exc}") from None
    elif name == "RedrivePolicy" and value:
        document = _json_object(name, value)
        target = document.get("deadLetterTargetArn")
        if not isinstance(target, str) or not target.startswith("arn:") or ":sqs:" not in target:
            raise invalid("RedrivePolicy: deadLetterTargetArn is missing or is not an SQS queue ARN")
    elif name == "DeliveryPolicy" and value:
        if protocol not in ("http", "https"):
            raise invalid(f"DeliveryPolicy: Delivery policy is not supported for the {protocol} protocol")
        try:
            delivery_policy.parse_subscription_policy(value)
        except delivery_policy.DeliveryPolicyError as exc:
            raise invalid(f"DeliveryPolicy: {exc}") from None
    return value


def subscription_attributes(subscription: Subscription, topic: Topic | None) -> dict[str, str]:
    attributes = {
        "SubscriptionArn": subscription.arn,
        "TopicArn": subscription.topic_arn,
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "ConfirmationWasAuthenticated": "true" if subscription.authenticated else "false",
        "PendingConfirmation": "false" if subscription.confirmed else "true",
        "RawMessageDelivery": "false",
        "SubscriptionPrincipal": f"arn:aws:iam::{subscription.owner}:root",
    }
    attributes.update({name: value for name, value in subscription.attributes.items() if value != ""})
    if "FilterPolicy" in attributes and "FilterPolicyScope" not in attributes:
        attributes["FilterPolicyScope"] = SCOPES[0]
    if subscription.protocol in ("http", "https"):
        effective = topic_attributes(topic)["EffectiveDeliveryPolicy"] if topic else "{}"
        http = json.loads(effective).get("http", {})
        policy: dict[str, Any] = {
            "healthyRetryPolicy": http.get("defaultHealthyRetryPolicy", delivery_policy.DEFAULT_RETRY_POLICY),
        }
        if subscription.attributes.get("DeliveryPolicy"):
            policy.update(json.loads(subscription.attributes["DeliveryPolicy"]))
        attributes["EffectiveDeliveryPolicy"] = json.dumps(policy)
    return attributes
