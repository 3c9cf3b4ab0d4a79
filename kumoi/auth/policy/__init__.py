"""The IAM policy language: parsing and validation, compilation, conditions, variables, evaluation.

Pure code: no storage, no I/O. Documents are parsed and compiled once (:func:`compile_policy`,
cached by text) into statements whose action and resource patterns are pre-built matchers, so
evaluating a request costs a few dictionary look-ups and regex matches per statement.
"""

from kumoi.auth.policy.document import PolicyKind, compile_policy, parse_policy
from kumoi.auth.policy.errors import PolicySyntaxError
from kumoi.auth.policy.evaluate import PolicySet, evaluate, evaluate_resource_policy
from kumoi.auth.policy.messages import denial_message
from kumoi.auth.policy.model import (
    AccessRequest,
    Decision,
    Effect,
    MatchedStatement,
    Policy,
    Principal,
    ResourceFacts,
    Statement,
    Target,
)

__all__ = [
    "AccessRequest",
    "Decision",
    "Effect",
    "MatchedStatement",
    "Policy",
    "PolicyKind",
    "PolicySet",
    "PolicySyntaxError",
    "Principal",
    "ResourceFacts",
    "Statement",
    "Target",
    "compile_policy",
    "denial_message",
    "evaluate",
    "evaluate_resource_policy",
    "parse_policy",
]
