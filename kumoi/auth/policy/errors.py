"""The one error of the policy language: a document IAM would refuse."""

from __future__ import annotations


class PolicySyntaxError(ValueError):
    """A policy document IAM refuses, with AWS's ``MalformedPolicyDocument`` message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
