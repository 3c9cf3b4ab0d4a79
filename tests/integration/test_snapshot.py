"""kumoi snapshot save/load and kumoi reset, through the command line."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.support.cli import run_kumoi
from tests.support.server import running_server

MULTIPART = [b"a" * 5 * 1024 * 1024, b"b" * 1000]


def test_snapshot_round_trip_while_writing(tmp_path: Path) -> None:
    small, large = b"tiny object", bytes(range(256)) * 4096
    snapshot = tmp_path / "state.tar"
    with running_server(tmp_path / "original") as server:
        s3, sqs = server.client("s3"), server.client("sqs")
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="small", Body=small)
        s3.put_object(Bucket="kept", Key="large", Body=large)
        upload = s3.create_multipart_upload(Bucket="kept", Key="multipart")["UploadId"]
        parts = [
            {
                "PartNumber": n,
                "ETag": s3.upload_part(
                    Bucket="kept", Key="multipart", UploadId=upload, PartNumber=n, Body=part
                )["ETag"],
            }
            for n, part in enumerate(MULTIPART, start=1)
        ]
        s3.complete_multipart_upload(
            Bucket="kept", Key="multipart", UploadId=upload, MultipartUpload={"Parts": parts}
        )
        url = sqs.create_queue(QueueName="kept")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="remember me")
        stop = threading.Event()

        def keep_writing() -> None:
            writer = server.client("s3")
            for n in range(10_000):
                if stop.is_set():
                    return
                writer.put_object(Bucket="kept", Key=f"busy/{n}", Body=b"x" * (n % 3 * 70_000))

        busy = threading.Thread(target=keep_writing)
        busy.start()
        try:
            saved = run_kumoi("snapshot", "save", str(snapshot), "--endpoint", server.endpoint)
        finally:
            stop.set()
            busy.join(60)
        assert saved.returncode == 0, saved.stderr
    restored_dir = tmp_path / "restored"
    loaded = run_kumoi("snapshot", "load", str(snapshot), "--data-dir", str(restored_dir))
    assert loaded.returncode == 0, loaded.stderr
    refused = run_kumoi("snapshot", "load", str(snapshot), "--data-dir", str(restored_dir))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    with running_server(restored_dir) as server:
        s3, sqs = server.client("s3"), server.client("sqs")
        assert s3.get_object(Bucket="kept", Key="small")["Body"].read() == small
        assert s3.get_object(Bucket="kept", Key="large")["Body"].read() == large
        assert s3.get_object(Bucket="kept", Key="multipart")["Body"].read() == b"".join(MULTIPART)
        for item in s3.list_objects_v2(Bucket="kept", Prefix="busy/").get("Contents", []):
            n = int(item["Key"].split("/")[1])
            assert s3.get_object(Bucket="kept", Key=item["Key"])["Body"].read() == b"x" * (n % 3 * 70_000)
        url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "remember me"
    assert run_kumoi("reset", "--data-dir", str(restored_dir)).returncode == 0
    assert not restored_dir.exists()
    stranger = tmp_path / "not-kumoi"
    stranger.mkdir()
    (stranger / "precious.txt").write_text("mine")
    assert run_kumoi("reset", "--data-dir", str(stranger)).returncode == 1
    assert (stranger / "precious.txt").exists()
