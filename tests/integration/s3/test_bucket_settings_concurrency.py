"""Puts of different bucket subresources at the same moment all take effect (none undoes another)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def test_concurrent_subresource_puts_all_land(s3: Any, bucket: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }
    puts: list[Callable[[], Any]] = [
        lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}),
        lambda: s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
        ),
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}
                ]
            },
        ),
        lambda: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy)),
    ]
    for _round in range(3):
        with ThreadPoolExecutor(len(puts)) as pool:
            for future in [pool.submit(put) for put in puts]:
                future.result()
        assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedMethods"] == ["GET"]
        assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"] == "r"
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
        s3.delete_bucket_tagging(Bucket=bucket)
        s3.delete_bucket_cors(Bucket=bucket)
        s3.delete_bucket_lifecycle(Bucket=bucket)
        s3.delete_bucket_policy(Bucket=bucket)
