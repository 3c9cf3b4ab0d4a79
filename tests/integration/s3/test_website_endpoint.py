"""Static website endpoints (``<bucket>.s3-website.localhost``) through plain HTTP, as a browser
reaches them: index and error documents, folder redirects, redirect-all and routing rules,
anonymous access only, HTML error pages."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique
from tests.support.access import policy_document, public_read_policy
from tests.support.server import ServerProcess


def get(
    server: ServerProcess, bucket: str, path: str, method: str = "GET", **headers: str
) -> http.client.HTTPResponse:
    port = urlsplit(server.endpoint).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers={"Host": f"{bucket}.s3-website.localhost:{port}", **headers})
    response = connection.getresponse()
    response.read_body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def body(response: http.client.HTTPResponse) -> bytes:
    data: bytes = response.read_body  # type: ignore[attr-defined]
    return data


@pytest.fixture
def site(s3: Any) -> str:
    """A bucket anyone may read and list, with a website: index.html, error.html, docs/index.html,
    docs/a.txt."""
    name = unique("site")
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    public = {"Effect": "Allow", "Principal": "*"}
    s3.put_bucket_policy(
        Bucket=name,
        Policy=policy_document(
            {**public, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"},
            {**public, "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"},
        ),
    )
    for key, text, kind in [
        ("index.html", b"<h1>home</h1>", "text/html"),
        ("error.html", b"<h1>oops</h1>", "text/html"),
        ("docs/index.html", b"<h1>docs</h1>", "text/html"),
        ("docs/a.txt", b"0123456789", "text/plain"),
    ]:
        s3.put_object(Bucket=name, Key=key, Body=text, ContentType=kind)
    s3.put_bucket_website(
        Bucket=name,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
        },
    )
    return name


def test_index_documents_and_keys(server: ServerProcess, site: str) -> None:
    root = get(server, site, "/")
    assert (root.status, body(root), root.getheader("Content-Type")) == (200, b"<h1>home</h1>", "text/html")
    folder = get(server, site, "/docs/")
    assert (folder.status, body(folder)) == (200, b"<h1>docs</h1>")
    plain = get(server, site, "/docs/a.txt")
    assert (plain.status, body(plain), plain.getheader("Content-Type")) == (200, b"0123456789", "text/plain")


def test_ranges_and_head_pass_through(server: ServerProcess, site: str) -> None:
    ranged = get(server, site, "/docs/a.txt", Range="bytes=2-4")
    assert (ranged.status, body(ranged)) == (206, b"234")
    head = get(server, site, "/docs/a.txt", method="HEAD")
    assert (head.status, body(head), head.getheader("Content-Length")) == (200, b"", "10")


def test_a_folder_without_its_slash_redirects(server: ServerProcess, site: str) -> None:
    response = get(server, site, "/docs")
    assert (response.status, response.getheader("Location")) == (302, "/docs/")


def test_a_missing_key_gets_the_error_document(server: ServerProcess, site: str) -> None:
    response = get(server, site, "/nothing/here.html")
    assert (response.status, body(response)) == (404, b"<h1>oops</h1>")


def test_without_list_permission_a_missing_key_is_forbidden(
    server: ServerProcess, s3: Any, site: str
) -> None:
    s3.put_bucket_policy(Bucket=site, Policy=public_read_policy(site))
    response = get(server, site, "/nothing.html")
    assert (response.status, body(response)) == (403, b"<h1>oops</h1>")
    folder = get(server, site, "/docs")
    assert (folder.status, folder.getheader("Location")) == (302, "/docs/")


def test_without_an_error_document_errors_are_html_pages(server: ServerProcess, s3: Any, site: str) -> None:
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    response = get(server, site, "/missing")
    assert response.status == 404
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"<li>Code: NoSuchKey</li>" in body(response)
    assert b"<li>Key: missing</li>" in body(response)


def test_a_private_bucket_is_forbidden(server: ServerProcess, s3: Any) -> None:
    name = unique("private")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="index.html", Body=b"secret")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    response = get(server, name, "/")
    assert response.status == 403
    assert b"<li>Code: AccessDenied</li>" in body(response)
    assert b"secret" not in body(response)


@pytest.mark.parametrize(("network", "status"), [("127.0.0.0/8", 200), ("10.0.0.0/8", 403)])
def test_reads_carry_the_browsers_address(
    server: ServerProcess, s3: Any, site: str, network: str, status: int
) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{site}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": network}},
    }
    s3.put_bucket_policy(Bucket=site, Policy=policy_document(statement))
    assert get(server, site, "/docs/a.txt").status == status


def test_buckets_without_a_website(server: ServerProcess, s3: Any, bucket: str) -> None:
    response = get(server, bucket, "/")
    assert response.status == 404
    assert b"<li>Code: NoSuchWebsiteConfiguration</li>" in body(response)
    response = get(server, unique("nobucket"), "/")
    assert response.status == 404
    assert b"<li>Code: NoSuchBucket</li>" in body(response)


def test_only_reads(server: ServerProcess, site: str) -> None:
    response = get(server, site, "/index.html", method="DELETE")
    assert response.status == 405
    assert b"<li>Code: MethodNotAllowed</li>" in body(response)
    assert get(server, site, "/index.html").status == 200


def test_an_object_can_redirect(server: ServerProcess, s3: Any, site: str) -> None:
    s3.put_object(Bucket=site, Key="moved.html", Body=b"", WebsiteRedirectLocation="/docs/")
    response = get(server, site, "/moved.html")
    assert (response.status, response.getheader("Location")) == (301, "/docs/")


@pytest.mark.parametrize("location", ["docs/", "ftp://example.com/x", "/" + "x" * 2048])
def test_a_redirect_location_must_be_a_path_or_an_http_url(s3: Any, bucket: str, location: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k", Body=b"", WebsiteRedirectLocation=location)
    assert error_of(excinfo) == ("InvalidRedirectLocation", 400)
    s3.put_object(Bucket=bucket, Key="k", Body=b"", WebsiteRedirectLocation="https://example.com/")


def test_redirect_all_requests(server: ServerProcess, s3: Any, site: str) -> None:
    s3.put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}},
    )
    response = get(server, site, "/docs/a.txt")
    assert (response.status, response.getheader("Location")) == (301, "https://example.com/docs/a.txt")


def test_routing_rules(server: ServerProcess, s3: Any, site: str) -> None:
    s3.put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [
                {
                    "Condition": {"KeyPrefixEquals": "old/"},
                    "Redirect": {"ReplaceKeyPrefixWith": "docs/", "HttpRedirectCode": "307"},
                },
                {
                    "Condition": {"HttpErrorCodeReturnedEquals": "404"},
                    "Redirect": {"HostName": "fallback.example", "ReplaceKeyWith": "404.html"},
                },
            ],
        },
    )
    port = urlsplit(server.endpoint).port
    moved = get(server, site, "/old/a.txt")
    assert (moved.status, moved.getheader("Location")) == (
        307,
        f"http://{site}.s3-website.localhost:{port}/docs/a.txt",
    )
    missing = get(server, site, "/gone.html")
    assert (missing.status, missing.getheader("Location")) == (301, "http://fallback.example/404.html")
    assert get(server, site, "/docs/a.txt").status == 200
