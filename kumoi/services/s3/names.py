"""S3's naming rules for buckets and keys (AWS: "Bucket naming rules", "Naming objects")."""

from __future__ import annotations

import ipaddress
import re

from kumoi.core.errors import ServiceError

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid general purpose bucket name, or None if it is."""
    if not _BUCKET_CHARS.match(name):
        return "must be 3-63 lowercase letters, digits, dots or hyphens, with a letter or digit at each end"
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain adjacent dots or a dot next to a hyphen"
    if name.startswith(_FORBIDDEN_PREFIXES) or name.endswith(_FORBIDDEN_SUFFIXES):
        return "uses a reserved prefix or suffix"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "must not be formatted as an IP address"


def check_bucket_name(name: str) -> None:
    if bucket_name_problem(name) is not None:
        raise ServiceError(
            "InvalidBucketName", "The specified bucket is not valid.", fields={"BucketName": name}
        )
