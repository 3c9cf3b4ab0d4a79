"""Topic names, ARNs, and the ``InvalidParameter`` errors SNS answers for bad input."""

from __future__ import annotations

import re

from kumoi.services.sns import api

#: Topic names: 1-256 letters, digits, hyphens and underscores (plus ``.fifo`` for FIFO topics).
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
FIFO_SUFFIX = ".fifo"
#: ``arn:aws:sns:<region>:<account>:<topic>`` (subscriptions add ``:<id>``).
ARN_PARTS = 6

FIFO_NAME_MESSAGE = (
    "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII "
    "letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
)


def invalid(reason: str) -> api.InvalidParameterException:
    return api.InvalidParameterException(f"Invalid parameter: {reason}")


def topic_not_found() -> api.NotFoundException:
    return api.NotFoundException("Topic does not exist")


def subscription_not_found() -> api.NotFoundException:
    return api.NotFoundException("Subscription does not exist")


def check_topic_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_TOPIC_NAME.fullmatch(name):
            raise invalid(FIFO_NAME_MESSAGE)
    elif not _TOPIC_NAME.fullmatch(name):
        raise invalid("Topic Name")


def topic_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account_id}:{name}"


def check_arn(arn: str, parameter: str) -> list[str]:
    """The parts of an SNS ARN, or the error AWS gives for a malformed one."""
    parts = arn.split(":")
    if len(parts) < ARN_PARTS:
        raise invalid(f"{parameter} Reason: An ARN must have at least 6 elements, not {len(parts)}")
    if parts[0] != "arn" or parts[2] != "sns":
        raise invalid(f"{parameter} Reason: {arn} does not start with arn:aws:sns")
    return parts
