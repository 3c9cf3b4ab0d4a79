"""HTTP/HTTPS delivery policies: validation, and the retry schedule they describe.

A topic's ``DeliveryPolicy`` attribute holds ``{"http": {"defaultHealthyRetryPolicy": {...},
"disableSubscriptionOverrides": bool, ...}}``; a subscription's holds ``{"healthyRetryPolicy":
{...}, ...}`` and wins unless the topic disables overrides. A retry policy runs four phases, as
the AWS guide "Amazon SNS message delivery retries" describes: ``numNoDelayRetries`` immediate
retries, ``numMinDelayRetries`` at ``minDelayTarget``, the backoff phase (the retries left of
``numRetries``) going from ``minDelayTarget`` to ``maxDelayTarget`` along ``backoffFunction``,
and ``numMaxDelayRetries`` at ``maxDelayTarget``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: AWS's default policy for HTTP/S endpoints: three retries 20 seconds apart.
DEFAULT_RETRY_POLICY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
MAX_RETRIES = 100
MAX_DELAY_SECONDS = 3600
#: The whole schedule may not last longer than this.
MAX_POLICY_SECONDS = 3600
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
_COUNTS = ("numRetries", "numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries")


class DeliveryPolicyError(ValueError):
    """An invalid policy; ``str(error)`` is the reason."""


def _integer(policy: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = policy.get(name, DEFAULT_RETRY_POLICY[name])
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DeliveryPolicyError(f"{name} must be an integer between {low} and {high}")
    return value


def normalized_retry_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A ``healthyRetryPolicy`` with defaults filled in, validated."""
    if not isinstance(policy, Mapping):
        raise DeliveryPolicyError("healthyRetryPolicy must be an object")
    max_delay = _integer(policy, "maxDelayTarget", 1, MAX_DELAY_SECONDS)
    min_delay = _integer(policy, "minDelayTarget", 1, max_delay)
    counts = {name: _integer(policy, name, 0, MAX_RETRIES) for name in _COUNTS}
    if sum(counts[name] for name in _COUNTS[1:]) > counts["numRetries"]:
        raise DeliveryPolicyError("numRetries must be at least the sum of the phase retries")
    backoff = policy.get("backoffFunction", "linear")
    if backoff not in BACKOFF_FUNCTIONS:
        raise DeliveryPolicyError(f"backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
    normalized = {
        **counts,
        "minDelayTarget": min_delay,
        "maxDelayTarget": max_delay,
        "backoffFunction": backoff,
    }
    if sum(retry_delays(normalized)) > MAX_POLICY_SECONDS:
        raise DeliveryPolicyError(f"the retry policy may last at most {MAX_POLICY_SECONDS} seconds")
    return normalized


def retry_delays(policy: Mapping[str, Any]) -> list[float]:
    """The wait before each retry, in order (the first attempt is immediate)."""
    low, high = float(policy["minDelayTarget"]), float(policy["maxDelayTarget"])
    immediate, at_min, at_max = (
        policy["numNoDelayRetries"],
        policy["numMinDelayRetries"],
        policy["numMaxDelayRetries"],
    )
    backoff = max(0, policy["numRetries"] - immediate - at_min - at_max)
    delays = [0.0] * immediate + [low] * at_min
    delays += [
        _backoff(policy["backoffFunction"], low, high, step, backoff) for step in range(1, backoff + 1)
    ]
    return delays + [high] * at_max


def _backoff(function: str, low: float, high: float, step: int, steps: int) -> float:
    fraction = step / steps
    if function == "arithmetic":
        fraction = step * (step + 1) / (steps * (steps + 1))
    elif function == "geometric":
        return float(low * (high / low) ** fraction)
    elif function == "exponential":
        fraction = (2**step - 1) / (2**steps - 1)
    return low + (high - low) * fraction


def parse_topic_policy(text: str) -> dict[str, Any]:
    """Validate a topic's ``DeliveryPolicy``; return it parsed."""
    document = _load(text)
    http = document.get("http", {})
    if not isinstance(http, dict):
        raise DeliveryPolicyError("http must be an object")
    if "defaultHealthyRetryPolicy" in http:
        normalized_retry_policy(http["defaultHealthyRetryPolicy"])
    return document


def parse_subscription_policy(text: str) -> dict[str, Any]:
    """Validate a subscription's ``DeliveryPolicy``; return it parsed."""
    document = _load(text)
    if "healthyRetryPolicy" in document:
        normalized_retry_policy(document["healthyRetryPolicy"])
    return document


def effective_delays(topic_policy: str | None, subscription_policy: str | None) -> list[float]:
    """The retry schedule for a subscription, from the stored (already valid) policies."""
    topic = json.loads(topic_policy) if topic_policy else {}
    http = topic.get("http", {})
    chosen: Mapping[str, Any] = http.get("defaultHealthyRetryPolicy", {})
    if subscription_policy and not http.get("disableSubscriptionOverrides", False):
        chosen = json.loads(subscription_policy).get("healthyRetryPolicy", chosen)
    return retry_delays(normalized_retry_policy(chosen))


def _load(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise DeliveryPolicyError("failed to parse JSON") from None
    if not isinstance(document, dict):
        raise DeliveryPolicyError("the policy must be a JSON object")
    return document
