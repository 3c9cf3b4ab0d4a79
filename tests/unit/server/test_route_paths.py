"""Services told apart from S3 by their path and a header (S3 Control): the router sends only
requests carrying both to them; S3 keeps everything else, buckets named like the path included."""

from __future__ import annotations

from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from kumoi.server.route import HostPolicy, Router, ServiceRoutes

S3 = ServiceRoutes(name="s3", signing_name="s3", protocols=("rest-xml",))
CONTROL = ServiceRoutes(
    name="s3control",
    signing_name="s3",
    protocols=("rest-xml",),
    path_prefix="/v20180820/",
    path_header="x-amz-account-id",
)
SIGNED = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"
)


def route(path: str, *headers: tuple[str, str], host: str = "localhost:4566") -> tuple[str, str | None]:
    router = Router([S3, CONTROL], HostPolicy(["localhost"], []))
    request = HttpRequest("GET", path, "", Headers([("host", host), *headers]), BytesBody())
    info = router.route(request)
    return info.service, info.bucket


def test_s3_control_by_path_and_header() -> None:
    account = ("x-amz-account-id", "111111111111")
    auth = ("authorization", SIGNED)
    assert route("/v20180820/configuration/publicAccessBlock", account, auth) == ("s3control", None)
    prefixed = route(
        "/v20180820/configuration/publicAccessBlock", account, auth, host="111111111111.localhost:1"
    )
    assert prefixed == ("s3control", None)


def test_s3_keeps_the_rest() -> None:
    auth = ("authorization", SIGNED)
    assert route("/v20180820/configuration/publicAccessBlock", auth) == ("s3", None)
    assert route("/bucket/key", ("x-amz-account-id", "111111111111"), auth) == ("s3", None)
    assert route("/key", auth, host="bucket.localhost:4566") == ("s3", "bucket")
