"""HTTP delivery to an endpoint served by the test: confirmation, signatures, retries, dead letters."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.integration.sns.conftest import Endpoint, aws_error, receive_all

FAST_RETRIES = {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3, "backoffFunction": "linear"}


def _verify(document: dict[str, Any]) -> None:
    """Check a message's signature the way an SNS receiver does."""
    if document["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join(f"{name}\n{document[name]}\n" for name in names if name in document)
    with urllib.request.urlopen(document["SigningCertURL"], timeout=5) as response:
        certificate = x509.load_pem_x509_certificate(response.read())
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    digest = hashes.SHA1() if document["SignatureVersion"] == "1" else hashes.SHA256()
    key.verify(base64.b64decode(document["Signature"]), canonical.encode(), padding.PKCS1v15(), digest)


def _subscribe_and_confirm(sns: Any, arn: str, endpoint: Endpoint, **attributes: str) -> str:
    answer = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url, Attributes=attributes)
    assert answer["SubscriptionArn"] == "pending confirmation"
    (confirmation,) = endpoint.wait_for(1)
    assert confirmation.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    document = confirmation.json()
    assert document["Type"] == "SubscriptionConfirmation" and document["TopicArn"] == arn
    _verify(document)
    with urllib.request.urlopen(document["SubscribeURL"], timeout=5) as response:  # unsigned, as a browser
        body = response.read().decode()
    subscription = str(body.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0])
    assert subscription.startswith(arn + ":")
    endpoint.received.clear()
    return subscription


def test_confirmation_handshake_and_signed_notifications(
    sns: Any, topic: Callable[..., str], endpoint: Endpoint
) -> None:
    arn = topic()
    subscription = _subscribe_and_confirm(sns, arn, endpoint)
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    message_id = sns.publish(TopicArn=arn, Message="over http", Subject="Hi")["MessageId"]
    (delivery,) = endpoint.wait_for(1)
    assert delivery.path == "/hook"
    assert delivery.headers["x-amz-sns-message-type"] == "Notification"
    assert delivery.headers["x-amz-sns-message-id"] == message_id
    assert delivery.headers["x-amz-sns-topic-arn"] == arn
    assert delivery.headers["x-amz-sns-subscription-arn"] == subscription
    assert delivery.headers["content-type"] == "text/plain; charset=UTF-8"
    document = delivery.json()
    assert document["Message"] == "over http" and document["Subject"] == "Hi"
    _verify(document)


def test_signature_version_2(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic(SignatureVersion="2")
    _subscribe_and_confirm(sns, arn, endpoint)
    sns.publish(TopicArn=arn, Message="sha256")
    (delivery,) = endpoint.wait_for(1)
    document = delivery.json()
    assert document["SignatureVersion"] == "2"
    _verify(document)


def test_raw_http_delivery(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic()
    _subscribe_and_confirm(sns, arn, endpoint, RawMessageDelivery="true")
    sns.publish(TopicArn=arn, Message="just the body")
    (delivery,) = endpoint.wait_for(1)
    assert delivery.body == "just the body" and delivery.headers["x-amz-sns-rawdelivery"] == "true"


def test_unsubscribe_url_works_unsigned(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic()
    subscription = _subscribe_and_confirm(sns, arn, endpoint)
    sns.publish(TopicArn=arn, Message="one")
    (delivery,) = endpoint.wait_for(1)
    urllib.request.urlopen(delivery.json()["UnsubscribeURL"], timeout=5).close()
    with aws_error("NotFound", 404):
        sns.get_subscription_attributes(SubscriptionArn=subscription)
    received = endpoint.wait_for(2)
    assert received[1].json()["Type"] == "UnsubscribeConfirmation"
    _verify(received[1].json())


def test_retries_follow_the_delivery_policy(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic()
    _subscribe_and_confirm(
        sns, arn, endpoint, DeliveryPolicy=json.dumps({"healthyRetryPolicy": FAST_RETRIES})
    )
    endpoint.fail, endpoint.attempts = 2, 0
    sns.publish(TopicArn=arn, Message="third time lucky")
    (delivery,) = endpoint.wait_for(1)
    assert delivery.json()["Message"] == "third time lucky" and endpoint.attempts == 3


def test_exhausted_retries_go_to_the_dead_letter_queue(
    sns: Any, sqs: Any, topic: Callable[..., str], queue: Any, endpoint: Endpoint
) -> None:
    arn = topic()
    dlq_url, dlq_arn = queue()
    policy = {"healthyRetryPolicy": {**FAST_RETRIES, "numRetries": 1}}
    _subscribe_and_confirm(
        sns,
        arn,
        endpoint,
        DeliveryPolicy=json.dumps(policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    endpoint.fail, endpoint.attempts = 1_000, 0
    sns.publish(TopicArn=arn, Message="never accepted")
    (dead,) = receive_all(sqs, dlq_url, 1)
    assert json.loads(dead["Body"])["Message"] == "never accepted" and endpoint.attempts == 2


def test_delivery_policy_validation(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic()
    bad = {"healthyRetryPolicy": {"minDelayTarget": 10, "maxDelayTarget": 5}}
    with aws_error("InvalidParameter"):
        sns.subscribe(
            TopicArn=arn,
            Protocol="http",
            Endpoint=endpoint.url,
            Attributes={"DeliveryPolicy": json.dumps(bad)},
        )


def test_signing_certificate_is_served(sns: Any, topic: Callable[..., str], endpoint: Endpoint) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url)
    (confirmation,) = endpoint.wait_for(1)
    url = confirmation.json()["SigningCertURL"]
    assert url.split("?")[0].endswith(".pem")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200 and response.read().startswith(b"-----BEGIN CERTIFICATE-----")


def test_authenticate_on_unsubscribe_refuses_the_unsigned_link(
    sns: Any, topic: Callable[..., str], endpoint: Endpoint
) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url)
    (confirmation,) = endpoint.wait_for(1)
    token = confirmation.json()["Token"]
    subscription = sns.confirm_subscription(TopicArn=arn, Token=token, AuthenticateOnUnsubscribe="true")[
        "SubscriptionArn"
    ]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["ConfirmationWasAuthenticated"] == "true"
    unsubscribe = f"{sns.meta.endpoint_url}/?Action=Unsubscribe&SubscriptionArn={subscription}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsubscribe, timeout=5)
    assert refused.value.code == 403 and b"<Code>AuthorizationError</Code>" in refused.value.read()
    sns.unsubscribe(SubscriptionArn=subscription)  # signed: allowed
