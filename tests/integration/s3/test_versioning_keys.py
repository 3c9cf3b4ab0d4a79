"""Versions across a restart and a master key rotation: older versions (kept beside the current
ones) stay readable, their inline bytes rewrapped like current objects'."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import rotate_keys
from tests.support.server import running_server

BUCKET = "versions-keys"


def test_older_versions_survive_restart_and_key_rotation(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bodies = [b"first small version", b"second", b"x" * 200_000, b"current"]
    with running_server(data_dir) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        ids = [s3.put_object(Bucket=BUCKET, Key="k", Body=body)["VersionId"] for body in bodies]
        marker = s3.delete_object(Bucket=BUCKET, Key="gone")["VersionId"]
    report = rotate_keys(data_dir)
    assert "rewrapped 1 blobs and 3 inline objects, 0 under unknown keys, 1 old keys removed" in report
    with running_server(data_dir) as server:
        s3 = server.client("s3")
        for version, body in zip(ids, bodies, strict=True):
            assert s3.get_object(Bucket=BUCKET, Key="k", VersionId=version)["Body"].read() == body
        listed = s3.list_object_versions(Bucket=BUCKET)
        assert [v["VersionId"] for v in listed["Versions"]] == list(reversed(ids))
        assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker]
