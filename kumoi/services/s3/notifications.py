"""Put/GetBucketNotificationConfiguration.

Setting a configuration validates it (:mod:`kumoi.services.s3.notification_config`), then sends
the ``s3:TestEvent`` to every queue and topic, as S3 does to check the destinations: one that
cannot take it fails the request (unless the caller asked to skip destination validation).
"""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors, notification_config
from kumoi.services.s3.base import S3Base

#: What S3 says about a destination it could not validate.
UNVALIDATED = "Unable to validate the following destination configurations"
NOT_REACHABLE = "The destination does not exist or S3 is not allowed to publish to it"


class NotificationOperations(S3Base):
    async def put_bucket_notification_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        stored = notification_config.normalize(request.get("NotificationConfiguration") or {})
        if not request.get("SkipDestinationValidation"):
            failed = await self._events.probe(ctx, bucket.name, stored, bucket.account_id)
            if failed:
                raise errors.invalid_argument(UNVALIDATED, failed[0], NOT_REACHABLE)
        if stored:
            await self._set_bucket_setting(bucket, notification_config.CONFIG_KEY, stored)
        else:
            await self._remove_bucket_setting(bucket, notification_config.CONFIG_KEY)
        return {}

    async def get_bucket_notification_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        return dict(bucket.config.get(notification_config.CONFIG_KEY) or {})

    async def drain_events(self) -> None:
        """Deliver stored event notifications until cancelled (a long-lived service task)."""
        await self._events.run()
