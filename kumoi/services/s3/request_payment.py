"""Put/GetBucketRequestPayment: who pays for a bucket's requests and downloads.

A bucket's payer is ``BucketOwner`` unless set to ``Requester`` (see
:mod:`~kumoi.services.s3.requester_pays` for what that asks of other accounts).
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.requester_pays import ATTR, OWNER_PAYS, REQUESTER_PAYS


class RequestPaymentOperations(S3Base):
    async def put_bucket_request_payment(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        payer = (request.get("RequestPaymentConfiguration") or {}).get("Payer")
        if payer not in (OWNER_PAYS, REQUESTER_PAYS):
            raise errors.malformed_xml()
        if payer == OWNER_PAYS:
            await self._remove_bucket_setting(bucket, ATTR)
        else:
            await self._set_bucket_setting(bucket, ATTR, payer)
        return {}

    async def get_bucket_request_payment(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        return {"Payer": bucket.config.get(ATTR, OWNER_PAYS)}
