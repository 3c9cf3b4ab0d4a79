"""``RequestContext.may_learn_absence``: where nothing evaluated the request a caller always learns
that something is missing; otherwise the check the authorizer left answers, for the container the
provider names (a copy's source bucket, not only the request's own)."""

from __future__ import annotations

import asyncio

from kumoi.core.context import Caller, RequestContext


def context() -> RequestContext:
    caller = Caller("111111111111", "arn:aws:iam::111111111111:user/alice", "AIDA", "AKIA", None, False)
    return RequestContext("r", "s3", "GetObject", "us-east-1", caller, "http://localhost:4566", "localhost")


def test_no_check_means_yes() -> None:
    assert asyncio.run(context().may_learn_absence("bucket")) is True


def test_the_left_check_answers_for_the_named_container() -> None:
    asked: list[str] = []

    async def may_list(container: str) -> bool:
        asked.append(container)
        return container == "listable"

    request = context()
    request.absence_check = may_list
    assert asyncio.run(request.may_learn_absence("listable")) is True
    assert asyncio.run(request.may_learn_absence("hidden")) is False
    assert asked == ["listable", "hidden"]
