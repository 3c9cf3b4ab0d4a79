"""Which Host headers name a bucket's static website endpoint."""

from __future__ import annotations

import pytest

from kumoi.server.route import HostPolicy

HOSTS = HostPolicy(["localhost", "localhost.localstack.cloud"], [])


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("site.s3-website.localhost:4566", "site"),
        ("my.site.s3-website-us-east-1.localhost", "my.site"),
        ("site.s3-website.eu-west-1.localhost.localstack.cloud:4566", "site"),
        ("site.localhost", None),
        ("site.s3.localhost", None),
        ("s3-website.localhost", None),
        ("site.s3-website.example.com", None),
    ],
)
def test_website_bucket_of(host: str, bucket: str | None) -> None:
    assert HOSTS.website_bucket_of(host) == bucket


def test_website_hosts_are_served() -> None:
    assert HOSTS.allows("site.s3-website.localhost:4566")
