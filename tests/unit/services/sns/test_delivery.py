"""Delivery policies (retry schedules), envelopes and their signatures."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kumoi.services.sns import delivery_policy, envelope
from kumoi.services.sns.signing import load_or_create


def test_default_schedule_is_three_retries_twenty_seconds_apart() -> None:
    assert delivery_policy.effective_delays(None, None) == [20.0, 20.0, 20.0]


def test_four_phases() -> None:
    policy = {
        "minDelayTarget": 2,
        "maxDelayTarget": 10,
        "numRetries": 8,
        "numNoDelayRetries": 1,
        "numMinDelayRetries": 2,
        "numMaxDelayRetries": 1,
        "backoffFunction": "linear",
    }
    delays = delivery_policy.retry_delays(delivery_policy.normalized_retry_policy(policy))
    assert delays == [0.0, 2.0, 2.0, 4.0, 6.0, 8.0, 10.0, 10.0]


@pytest.mark.parametrize("function", delivery_policy.BACKOFF_FUNCTIONS)
def test_backoff_functions_go_from_min_to_max(function: str) -> None:
    policy = {"minDelayTarget": 1, "maxDelayTarget": 30, "numRetries": 5, "backoffFunction": function}
    delays = delivery_policy.retry_delays(delivery_policy.normalized_retry_policy(policy))
    assert delays == sorted(delays) and delays[-1] == 30.0 and delays[0] >= 1.0


def test_subscription_policy_overrides_topic_unless_disabled() -> None:
    topic = json.dumps(
        {"http": {"defaultHealthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 5}}}
    )
    subscription = json.dumps(
        {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}
    )
    assert delivery_policy.effective_delays(topic, None) == [5.0]
    assert delivery_policy.effective_delays(topic, subscription) == [1.0, 1.0]
    locked = json.dumps({"http": {**json.loads(topic)["http"], "disableSubscriptionOverrides": True}})
    assert delivery_policy.effective_delays(locked, subscription) == [5.0]


@pytest.mark.parametrize(
    "policy",
    [
        {"minDelayTarget": 0},
        {"maxDelayTarget": 4000},
        {"minDelayTarget": 10, "maxDelayTarget": 5},
        {"numRetries": 101},
        {"numRetries": 1, "numNoDelayRetries": 2},
        {"backoffFunction": "cubic"},
        {"numRetries": 100, "minDelayTarget": 3600, "maxDelayTarget": 3600},
        {"numRetries": "3"},
    ],
)
def test_invalid_retry_policies(policy: dict[str, object]) -> None:
    with pytest.raises(delivery_policy.DeliveryPolicyError):
        delivery_policy.normalized_retry_policy(policy)


def test_envelope_signature_verifies_with_the_certificate(tmp_path: Path) -> None:
    signer = load_or_create(tmp_path)
    again = load_or_create(tmp_path)
    assert again.certificate_pem == signer.certificate_pem
    links = envelope.Links("http://localhost:4566")
    for version, digest in (("1", hashes.SHA1()), ("2", hashes.SHA256())):

        def sign(canonical: str, version: str = version) -> str:
            return signer.sign(canonical, version)

        document = json.loads(
            envelope.notification(
                message_id="id",
                topic_arn="arn:aws:sns:us-east-1:000000000000:t",
                subscription_arn="arn:aws:sns:us-east-1:000000000000:t:s",
                message="hello",
                subject=None,
                published_at=1_700_000_000.5,
                attributes={},
                links=links,
                sign=sign,
                signature_version=version,
            )
        )
        assert document["Timestamp"] == "2023-11-14T22:13:20.500Z" and "Subject" not in document
        canonical = envelope.canonical_string(document)
        assert canonical.startswith("Message\nhello\nMessageId\nid\nTimestamp\n")
        key = x509.load_pem_x509_certificate(signer.certificate_pem).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(base64.b64decode(document["Signature"]), canonical.encode(), padding.PKCS1v15(), digest)
