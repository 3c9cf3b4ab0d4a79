"""The coverage report and the signature check, on tiny fake providers."""

from __future__ import annotations

import pytest

from kumoi.codegen.conformance import signature_problems
from kumoi.codegen.coverage import coverage, render_markdown, render_text
from kumoi.core.context import RequestContext
from kumoi.services.sqs.api import (
    CreateQueueRequest,
    CreateQueueResult,
    DeleteQueueRequest,
    GetQueueUrlRequest,
    GetQueueUrlResult,
    SqsApi,
)
from kumoi.services.sts.api import OPERATIONS as STS_OPERATIONS
from kumoi.services.sts.api import GetCallerIdentityRequest, GetCallerIdentityResponse


class _QueueMixin:
    async def delete_queue(self, ctx: RequestContext, request: DeleteQueueRequest) -> None:
        return None


class _FakeSqs(_QueueMixin, SqsApi):
    async def create_queue(self, ctx: RequestContext, request: CreateQueueRequest) -> CreateQueueResult:
        return {"QueueUrl": f"{ctx.base_url}/000000000000/{request['QueueName']}"}

    def helper(self) -> int:
        return 1


class _FakeSqsSubclass(_FakeSqs):
    async def get_queue_url(self, ctx: RequestContext, request: GetQueueUrlRequest) -> GetQueueUrlResult:
        return {"QueueUrl": request["QueueName"]}


class _PlainSts:
    """A provider that does not subclass the generated base."""

    async def get_caller_identity(
        self, ctx: RequestContext, request: GetCallerIdentityRequest
    ) -> GetCallerIdentityResponse:
        return {"Account": ctx.account_id}


def test_counts_what_the_provider_defines_not_the_base() -> None:
    sqs, sts = coverage({"sts": _PlainSts(), "sqs": _FakeSqs()})
    assert sqs.service == "sqs" and sts.service == "sts", "rows follow the SERVICES order"
    assert sqs.implemented == ("CreateQueue", "DeleteQueue")
    assert len(sqs.missing) == sqs.total - 2 and "SendMessage" in sqs.missing
    assert sts.implemented == ("GetCallerIdentity",) and sts.total == len(STS_OPERATIONS)
    assert sts.percent == pytest.approx(100 / len(STS_OPERATIONS))


def test_classes_and_instances_count_alike() -> None:
    (by_class,) = coverage({"sqs": _FakeSqsSubclass})
    (by_instance,) = coverage({"sqs": _FakeSqsSubclass()})
    assert by_class == by_instance
    assert by_class.implemented == ("CreateQueue", "DeleteQueue", "GetQueueUrl")
    (bare,) = coverage({"sqs": SqsApi()})
    assert bare.implemented == () and bare.percent == 0.0


def test_unknown_service_is_refused() -> None:
    with pytest.raises(ValueError, match="ec2"):
        coverage({"ec2": object()})


def test_text_table() -> None:
    rows = coverage({"sqs": _FakeSqs(), "sts": _PlainSts()})
    text = render_text(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["service", "implemented", "total", "coverage"]
    sqs_total = rows[0].total
    assert lines[2].split() == ["sqs", "2", str(sqs_total), f"{200 / sqs_total:.1f}%"]
    assert lines[-1].split()[:3] == ["all", "3", str(sqs_total + len(STS_OPERATIONS))]
    assert "missing" not in text
    detailed = render_text(rows, missing=True)
    assert "  missing: AddPermission, CancelMessageMoveTask," in detailed
    assert "CreateQueue" not in detailed and "AssumeRole" in detailed
    assert max(len(line) for line in detailed.splitlines()) <= 100


def test_markdown_table() -> None:
    rows = coverage({"sqs": _FakeSqs(), "sts": _PlainSts()})
    lines = render_markdown(rows).splitlines()
    assert lines[:2] == ["| Service | Operations implemented | Coverage |", "|---|---:|---:|"]
    assert lines[2] == f"| SQS | 2 / {rows[0].total} | {200 / rows[0].total:.0f}% |"
    assert lines[3].startswith("| STS | 1 / ")


def test_matching_signatures_have_no_problems() -> None:
    assert signature_problems("sqs", _FakeSqsSubclass) == []
    assert signature_problems("sts", _PlainSts()) == []


class _Wrong(SqsApi):
    def delete_queue(self, ctx: RequestContext, request: DeleteQueueRequest) -> None:  # type: ignore[override]
        return None

    # mypy accepts a renamed parameter in an override; the run-time check does not.
    async def create_queue(self, context: RequestContext, request: CreateQueueRequest) -> CreateQueueResult:
        return {}

    async def get_queue_url(self, ctx: RequestContext, request: GetQueueUrlRequest) -> dict[str, str]:  # type: ignore[override]
        return {}

    async def list_queues(self, ctx, request):  # type: ignore[no-untyped-def]
        return {}


def test_mismatched_signatures_are_named() -> None:
    problems = signature_problems("sqs", _Wrong())
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "_Wrong.delete_queue (DeleteQueue): must be an async def" in text
    assert "_Wrong.create_queue (CreateQueue): parameters" in text
    assert "_Wrong.get_queue_url (GetQueueUrl): return annotated dict[str, str]" in text
    assert "_Wrong.list_queues (ListQueues): parameter 'ctx' annotated None" in text
