"""Analytics, inventory, metrics and Intelligent-Tiering configurations through boto3: put, get,
list (100 a page), delete, by id, with S3's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of


def refused(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return error_of(excinfo)


def analytics(config_id: str) -> dict[str, Any]:
    return {
        "Id": config_id,
        "Filter": {"Prefix": "logs/"},
        "StorageClassAnalysis": {
            "DataExport": {
                "OutputSchemaVersion": "V_1",
                "Destination": {"S3BucketDestination": {"Format": "CSV", "Bucket": "arn:aws:s3:::reports"}},
            }
        },
    }


def inventory(config_id: str) -> dict[str, Any]:
    return {
        "Id": config_id,
        "IsEnabled": True,
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::reports", "Format": "Parquet"}},
        "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Weekly"},
        "OptionalFields": ["Size", "ETag"],
    }


def metrics(config_id: str) -> dict[str, Any]:
    return {"Id": config_id, "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "team", "Value": "x"}]}}}


def tiering(config_id: str) -> dict[str, Any]:
    return {
        "Id": config_id,
        "Status": "Enabled",
        "Tierings": [
            {"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
            {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"},
        ],
    }


KINDS = {
    "analytics": (analytics, "AnalyticsConfiguration", "list_bucket_analytics_configurations"),
    "inventory": (inventory, "InventoryConfiguration", "list_bucket_inventory_configurations"),
    "metrics": (metrics, "MetricsConfiguration", "list_bucket_metrics_configurations"),
    "intelligent_tiering": (
        tiering,
        "IntelligentTieringConfiguration",
        "list_bucket_intelligent_tiering_configurations",
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_round_trip(s3: Any, bucket: str, kind: str) -> None:
    make, member, list_name = KINDS[kind]
    put = getattr(s3, f"put_bucket_{kind}_configuration")
    get = getattr(s3, f"get_bucket_{kind}_configuration")
    delete = getattr(s3, f"delete_bucket_{kind}_configuration")
    listed = getattr(s3, list_name)
    assert member + "List" not in listed(Bucket=bucket)
    assert refused(get, Bucket=bucket, Id="one") == ("NoSuchConfiguration", 404)
    put(Bucket=bucket, Id="one", **{member: make("one")})
    put(Bucket=bucket, Id="two", **{member: make("two")})
    assert get(Bucket=bucket, Id="one")[member] == make("one")
    page = listed(Bucket=bucket)
    assert [config["Id"] for config in page[member + "List"]] == ["one", "two"]
    assert page["IsTruncated"] is False
    delete(Bucket=bucket, Id="one")
    assert refused(get, Bucket=bucket, Id="one") == ("NoSuchConfiguration", 404)
    assert refused(delete, Bucket=bucket, Id="one") == ("NoSuchConfiguration", 404)
    assert [config["Id"] for config in listed(Bucket=bucket)[member + "List"]] == ["two"]


def test_lists_page_by_a_hundred(s3: Any, bucket: str) -> None:
    for number in range(150):
        s3.put_bucket_metrics_configuration(
            Bucket=bucket, Id=f"m{number:03d}", MetricsConfiguration=metrics(f"m{number:03d}")
        )
    first = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert first["IsTruncated"] is True
    assert len(first["MetricsConfigurationList"]) == 100
    second = s3.list_bucket_metrics_configurations(
        Bucket=bucket, ContinuationToken=first["NextContinuationToken"]
    )
    assert second["IsTruncated"] is False
    assert second["ContinuationToken"] == first["NextContinuationToken"]
    ids = [c["Id"] for c in first["MetricsConfigurationList"] + second["MetricsConfigurationList"]]
    assert ids == [f"m{number:03d}" for number in range(150)]


@pytest.mark.parametrize("token", ["!!", "\u0001", "é", "a"])
def test_a_token_it_did_not_give_is_refused(s3: Any, bucket: str, token: str) -> None:
    assert refused(s3.list_bucket_metrics_configurations, Bucket=bucket, ContinuationToken=token) == (
        "InvalidArgument",
        400,
    )


def test_put_replaces_the_configuration_of_its_id(s3: Any, bucket: str) -> None:
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="m", MetricsConfiguration=metrics("m"))
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="m", MetricsConfiguration={"Id": "m"})
    assert s3.get_bucket_metrics_configuration(Bucket=bucket, Id="m")["MetricsConfiguration"] == {"Id": "m"}


@pytest.mark.parametrize(
    ("kind", "config", "code"),
    [
        ("metrics", {"Id": "other"}, "InvalidArgument"),
        (
            "inventory",
            {
                **inventory("c"),
                "Destination": {"S3BucketDestination": {"Bucket": "reports", "Format": "CSV"}},
            },
            "InvalidArgument",
        ),
        ("inventory", {**inventory("c"), "Schedule": {"Frequency": "Hourly"}}, "MalformedXML"),
        ("inventory", {**inventory("c"), "IncludedObjectVersions": "Some"}, "MalformedXML"),
        (
            "intelligent_tiering",
            {**tiering("c"), "Tierings": [{"Days": 30, "AccessTier": "ARCHIVE_ACCESS"}]},
            "InvalidArgument",
        ),
        (
            "intelligent_tiering",
            {**tiering("c"), "Tierings": [{"Days": 900, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]},
            "InvalidArgument",
        ),
        ("intelligent_tiering", {**tiering("c"), "Status": "On"}, "MalformedXML"),
        (
            "analytics",
            {
                **analytics("c"),
                "StorageClassAnalysis": {
                    "DataExport": {
                        "OutputSchemaVersion": "V_2",
                        "Destination": {"S3BucketDestination": {"Format": "CSV", "Bucket": "arn:aws:s3:::r"}},
                    }
                },
            },
            "MalformedXML",
        ),
    ],
    ids=[
        "id-mismatch",
        "inventory-not-an-arn",
        "inventory-frequency",
        "inventory-versions",
        "tiering-too-few-days",
        "tiering-too-many-days",
        "tiering-status",
        "analytics-schema",
    ],
)
def test_refusals(s3: Any, bucket: str, kind: str, config: dict[str, Any], code: str) -> None:
    member = KINDS[kind][1]
    put = getattr(s3, f"put_bucket_{kind}_configuration")
    assert refused(put, Bucket=bucket, Id="c", **{member: config}) == (code, 400)
    assert member + "List" not in getattr(s3, KINDS[kind][2])(Bucket=bucket)


def test_ids_are_letters_digits_and_dot_dash_underscore(s3: Any, bucket: str) -> None:
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="a.b-c_D9", MetricsConfiguration={"Id": "a.b-c_D9"})
    for bad in ("a b", "x" * 65, "ä"):
        assert refused(
            s3.put_bucket_metrics_configuration, Bucket=bucket, Id=bad, MetricsConfiguration={"Id": bad}
        ) == ("InvalidArgument", 400)
