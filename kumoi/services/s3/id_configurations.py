"""Analytics, inventory, metrics and S3 Intelligent-Tiering configurations of a bucket.

Each kind is a set of up to 1,000 configurations named by their ``Id``, with the same four
operations: Put (replaces the whole configuration of that id), Get, Delete and List (100 a
page, in id order). Each configuration is its own bucket setting (``"<kind>:<id>"``), so writes of
different ids never overwrite each other. They are checked as S3 checks them; kumoi keeps them for
the API and runs no analysis, inventory report or CloudWatch metric from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.listing import decode_token, encode_token
from kumoi.storage.meta.contract import BucketRecord

MAX_CONFIGURATIONS = 1000
PAGE_SIZE = 100
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ARCHIVE_DAYS = {"ARCHIVE_ACCESS": (90, 730), "DEEP_ARCHIVE_ACCESS": (180, 730)}


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of id-keyed configuration: its setting prefix, its wire member and its checks."""

    prefix: str
    member: str
    check: Callable[[Mapping[str, Any]], None]

    def setting(self, config_id: str) -> str:
        return f"{self.prefix}:{config_id}"

    def stored(self, bucket: BucketRecord) -> dict[str, Any]:
        """The bucket's configurations of this kind, by id."""
        start = f"{self.prefix}:"
        return {name[len(start) :]: value for name, value in bucket.config.items() if name.startswith(start)}


def _require(value: Any, *allowed: str) -> None:
    if value not in allowed:
        raise errors.malformed_xml()


def _check_analytics(config: Mapping[str, Any]) -> None:
    export = (config.get("StorageClassAnalysis") or {}).get("DataExport")
    if export is not None:
        _require(export.get("OutputSchemaVersion"), "V_1")
        destination = (export.get("Destination") or {}).get("S3BucketDestination") or {}
        _require(destination.get("Format"), "CSV")
        _check_bucket_arn(destination.get("Bucket"))


def _check_inventory(config: Mapping[str, Any]) -> None:
    destination = (config.get("Destination") or {}).get("S3BucketDestination") or {}
    _require(destination.get("Format"), "CSV", "ORC", "Parquet")
    _check_bucket_arn(destination.get("Bucket"))
    _require(config.get("IncludedObjectVersions"), "All", "Current")
    _require((config.get("Schedule") or {}).get("Frequency"), "Daily", "Weekly")
    if not isinstance(config.get("IsEnabled"), bool):
        raise errors.malformed_xml()


def _check_metrics(config: Mapping[str, Any]) -> None:
    """A metrics configuration has nothing beyond its id and optional filter to check."""


def _check_tiering(config: Mapping[str, Any]) -> None:
    _require(config.get("Status"), "Enabled", "Disabled")
    tierings = config.get("Tierings") or []
    if not tierings:
        raise errors.malformed_xml()
    for tiering in tierings:
        tier, days = tiering.get("AccessTier"), tiering.get("Days")
        if tier not in _ARCHIVE_DAYS or not isinstance(days, int):
            raise errors.malformed_xml()
        low, high = _ARCHIVE_DAYS[tier]
        if not low <= days <= high:
            raise errors.invalid_argument(f"{tier} days must be between {low} and {high}", "Days", str(days))


def _check_bucket_arn(value: Any) -> None:
    if (
        not isinstance(value, str)
        or not value.startswith("arn:aws:s3:::")
        or len(value) == len("arn:aws:s3:::")
    ):
        raise errors.invalid_argument("Invalid bucket ARN", "Bucket", str(value))


ANALYTICS = Kind("Analytics", "AnalyticsConfiguration", _check_analytics)
INVENTORY = Kind("Inventory", "InventoryConfiguration", _check_inventory)
METRICS = Kind("Metrics", "MetricsConfiguration", _check_metrics)
INTELLIGENT_TIERING = Kind("IntelligentTiering", "IntelligentTieringConfiguration", _check_tiering)


def _no_such_configuration() -> ServiceError:
    return ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", status=404)


def _checked_id(config_id: str) -> str:
    if not _ID.fullmatch(config_id):
        raise errors.invalid_argument("Invalid Id", "id", config_id)
    return config_id


class IdConfigurationOperations(S3Base):
    async def _put_configuration(
        self, ctx: RequestContext, request: dict[str, Any], kind: Kind
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config_id = _checked_id(str(request["Id"]))
        config = dict(request.get(kind.member) or {})
        if config.get("Id") != config_id:
            raise errors.invalid_argument(
                "The Id in the configuration does not match the id parameter", "id", config_id
            )
        kind.check(config)
        existing = kind.stored(bucket)
        if config_id not in existing and len(existing) >= MAX_CONFIGURATIONS:
            raise ServiceError(
                "TooManyConfigurations",
                "You are attempting to create a new configuration but have already reached the "
                "1,000-configuration limit.",
            )
        await self._set_bucket_setting(bucket, kind.setting(config_id), config)
        return {}

    async def _get_configuration(
        self, ctx: RequestContext, request: dict[str, Any], kind: Kind
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        config = bucket.config.get(kind.setting(str(request["Id"])))
        if config is None:
            raise _no_such_configuration()
        return {kind.member: config}

    async def _delete_configuration(
        self, ctx: RequestContext, request: dict[str, Any], kind: Kind
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        setting = kind.setting(str(request["Id"]))
        if setting not in bucket.config:
            raise _no_such_configuration()
        await self._remove_bucket_setting(bucket, setting)
        return {}

    async def _list_configurations(
        self, ctx: RequestContext, request: dict[str, Any], kind: Kind
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        token = request.get("ContinuationToken")
        after = decode_token(str(token)) if token is not None else None
        stored = kind.stored(bucket)
        ids = sorted(config_id for config_id in stored if after is None or config_id > after)
        page = ids[:PAGE_SIZE]
        output: dict[str, Any] = {"IsTruncated": len(ids) > PAGE_SIZE}
        if token is not None:
            output["ContinuationToken"] = token
        if len(ids) > PAGE_SIZE:
            output["NextContinuationToken"] = encode_token(page[-1])
        if page:
            output[f"{kind.member}List"] = [stored[config_id] for config_id in page]
        return output

    async def put_bucket_analytics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._put_configuration(ctx, request, ANALYTICS)

    async def get_bucket_analytics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._get_configuration(ctx, request, ANALYTICS)

    async def delete_bucket_analytics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._delete_configuration(ctx, request, ANALYTICS)

    async def list_bucket_analytics_configurations(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_configurations(ctx, request, ANALYTICS)

    async def put_bucket_inventory_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._put_configuration(ctx, request, INVENTORY)

    async def get_bucket_inventory_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._get_configuration(ctx, request, INVENTORY)

    async def delete_bucket_inventory_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._delete_configuration(ctx, request, INVENTORY)

    async def list_bucket_inventory_configurations(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_configurations(ctx, request, INVENTORY)

    async def put_bucket_metrics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._put_configuration(ctx, request, METRICS)

    async def get_bucket_metrics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._get_configuration(ctx, request, METRICS)

    async def delete_bucket_metrics_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._delete_configuration(ctx, request, METRICS)

    async def list_bucket_metrics_configurations(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_configurations(ctx, request, METRICS)

    async def put_bucket_intelligent_tiering_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._put_configuration(ctx, request, INTELLIGENT_TIERING)

    async def get_bucket_intelligent_tiering_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._get_configuration(ctx, request, INTELLIGENT_TIERING)

    async def delete_bucket_intelligent_tiering_configuration(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._delete_configuration(ctx, request, INTELLIGENT_TIERING)

    async def list_bucket_intelligent_tiering_configurations(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_configurations(ctx, request, INTELLIGENT_TIERING)
