"""What the request path computes once and remembers (header names off the wire, host verdicts,
routes), or only in part (an unsigned form's Action), gives the answers of computing it all."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.server.app import form_action
from kumoi.server.route import HostPolicy, Router, ServiceRoutes

SETTINGS = settings(max_examples=300, deadline=None)

NAMES = st.sampled_from([b"Host", b"host", b"X-Amz-Date", b"x-amz-date", b"Content-Type", b"X-\xe9", b"a"])
VALUES = st.binary(max_size=12)


@SETTINGS
@given(st.lists(st.tuples(NAMES, VALUES), max_size=12))
def test_headers_from_the_wire_are_headers_added_one_by_one(fields: list[tuple[bytes, bytes]]) -> None:
    for _ in range(2):  # the second time, the names come from the cache
        wire = Headers.from_wire(fields)
        added = Headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in fields)
        assert wire.items() == added.items()
        for name, _value in fields:
            for asked in (name.decode("latin-1"), name.decode("latin-1").upper()):
                assert wire.get_all(asked) == added.get_all(asked)
                assert wire.get(asked) == added.get(asked)
                assert wire.count(asked) == added.count(asked)
                assert (asked in wire) == (asked in added)


@SETTINGS
@given(
    st.sampled_from(
        ["localhost", "LOCALHOST:4566", "127.0.0.1", "evil.example", "b.s3.kumoi.test", "[::1]:80", ""]
    )
)
def test_host_verdicts_are_remembered_as_judged(host: str) -> None:
    policy = HostPolicy(["kumoi.test"], ["extra.test"])
    assert policy.allows(host) == policy._judge(host)
    assert policy.allows(host) == policy._judge(host)


SQS = ServiceRoutes(
    "sqs", "sqs", ("json", "query"), json_target_prefix="AmazonSQS", query_actions=frozenset({"SendMessage"})
)
SNS = ServiceRoutes("sns", "sns", ("query",), query_actions=frozenset({"Publish"}))
S3 = ServiceRoutes("s3", "s3", ("rest-xml",))
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SCOPE = "AWS4-HMAC-SHA256 Credential=AKID/20250102/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"


@SETTINGS
@given(
    st.sampled_from(["GET", "POST"]),
    st.sampled_from([None, "AmazonSQS.SendMessage"]),
    st.sampled_from([None, "sqs", "sns", "s3"]),
    st.sampled_from([None, FORM, "application/x-amz-json-1.0"]),
    st.sampled_from(
        ["", "Action=Publish", "X-Amz-Credential=AKID%2F20250102%2Fus-east-1%2Fsns%2Faws4_request"]
    ),
)
def test_routing_without_the_form_agrees_with_needs_form_and_route(
    method: str, target: str | None, scope: str | None, content_type: str | None, query: str
) -> None:
    router = Router([SQS, SNS, S3], HostPolicy(["localhost"], []))
    headers = Headers([("host", "localhost")])
    if target is not None:
        headers.add("x-amz-target", target)
    if scope is not None:
        headers.add("authorization", SCOPE.format(scope))
    if content_type is not None:
        headers.add("content-type", content_type)
    request = HttpRequest(method, "/", query, headers, BytesBody())
    found = router.route_without_form(request)
    if router.needs_form(request):
        assert found is None
    else:
        assert found == router.route(request)


FORM_PIECES = st.sampled_from(
    ["Action", "Act%69on", "Action+", "A%ction", "=", "&", "%FF", "+", "Publish", "%E2%82%AC", "x"]
)


@SETTINGS
@given(st.lists(FORM_PIECES, max_size=12).map("".join))
def test_form_action_is_that_of_the_parsed_form(form: str) -> None:
    assert form_action(form) == dict(parse_qsl(form, keep_blank_values=True)).get("Action")
