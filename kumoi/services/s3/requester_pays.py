"""Requester Pays: what a bucket whose requesters pay asks of other accounts.

Requests to a Requester Pays bucket from any account but its owner's must acknowledge the charge
with ``x-amz-request-payer: requester``, or S3 refuses them with 403 ``AccessDenied``; anonymous
requests are refused outright. The owner's own requests need nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumoi.services.s3 import errors

ATTR = "RequestPayment"
OWNER_PAYS = "BucketOwner"
REQUESTER_PAYS = "Requester"


def check_payer(config: Mapping[str, Any], params: Mapping[str, Any], anonymous: bool) -> None:
    """Refuse a request from another account (or none) that does not accept a Requester Pays
    bucket's charge."""
    if config.get(ATTR) == REQUESTER_PAYS and (anonymous or params.get("RequestPayer") != "requester"):
        raise errors.access_denied()
