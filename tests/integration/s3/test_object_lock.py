"""Object Lock through boto3: buckets with Object Lock, default retention, retention modes and
legal holds on versions, who may bypass GOVERNANCE, and AWS's errors."""

from __future__ import annotations

import datetime
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.conftest import error_of, unique
from tests.support.server import ServerProcess

PROTECTED = "Access Denied because object protected by object lock."
DAY = 86400


def server_now(server: ServerProcess) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/_kumoi/clock", timeout=5) as response:
        return float(json.loads(response.read())["now"])


def advance(server: ServerProcess, seconds: float) -> None:
    body = json.dumps({"advance": seconds}).encode()
    request = urllib.request.Request(f"{server.endpoint}/_kumoi/clock", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def later(server: ServerProcess, seconds: float) -> datetime.datetime:
    """A moment ``seconds`` after the server's now (its clock may have been moved)."""
    return datetime.datetime.fromtimestamp(server_now(server) + seconds, datetime.UTC).replace(microsecond=0)


@pytest.fixture
def locked_bucket(s3: Any) -> str:
    name = unique("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def put_locked(s3: Any, bucket: str, key: str, mode: str, until: datetime.datetime) -> str:
    return str(
        s3.put_object(
            Bucket=bucket, Key=key, Body=b"data", ObjectLockMode=mode, ObjectLockRetainUntilDate=until
        )["VersionId"]
    )


def denied(call: Callable[..., Any], **kwargs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    assert error_of(excinfo) == ("AccessDenied", 403)
    assert excinfo.value.response["Error"]["Message"] == PROTECTED


def test_bucket_created_with_object_lock(s3: Any, locked_bucket: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    config = s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_versioning(Bucket=locked_bucket, VersioningConfiguration={"Status": "Suspended"})
    assert error_of(excinfo) == ("InvalidBucketState", 409)


def test_lock_configuration_validation(s3: Any, bucket: str, locked_bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert error_of(excinfo) == ("ObjectLockConfigurationNotFoundError", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
    assert error_of(excinfo) == ("InvalidBucketState", 409)
    both = {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}
    for retention, expected in (
        (both, ("MalformedXML", 400)),
        ({"Mode": "GOVERNANCE"}, ("MalformedXML", 400)),
        ({"Mode": "GOVERNANCE", "Days": 0}, ("InvalidArgument", 400)),
        # A retain-until date past year 9999 could never be written back (every later PUT failed).
        ({"Mode": "GOVERNANCE", "Years": 2**40}, ("InvalidArgument", 400)),
        ({"Mode": "COMPLIANCE", "Days": 1_000_001}, ("InvalidArgument", 400)),
    ):
        with pytest.raises(ClientError) as excinfo:
            s3.put_object_lock_configuration(
                Bucket=locked_bucket,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": retention},
                },
            )
        assert error_of(excinfo) == expected
    rule = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}
    s3.put_object_lock_configuration(
        Bucket=locked_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
    )
    got = s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert got == {"ObjectLockEnabled": "Enabled", "Rule": rule}


def test_object_lock_on_an_existing_versioned_bucket(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["ObjectLockEnabled"]


def test_lock_headers_need_an_object_lock_bucket(s3: Any, server: ServerProcess, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        put_locked(s3, bucket, "k", "GOVERNANCE", later(server, DAY))
    assert error_of(excinfo) == ("InvalidRequest", 400)
    assert excinfo.value.response["Error"]["Message"] == "Bucket is missing Object Lock Configuration"


def test_lock_header_validation(s3: Any, server: ServerProcess, locked_bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        put_locked(s3, locked_bucket, "k", "GOVERNANCE", later(server, -DAY))
    assert error_of(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE")
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_locked_put_needs_an_integrity_header(server: ServerProcess, locked_bucket: str) -> None:
    bare = server.client("s3", request_checksum_calculation="when_required")
    with pytest.raises(ClientError) as excinfo:
        put_locked(bare, locked_bucket, "k", "GOVERNANCE", later(server, DAY))
    assert error_of(excinfo) == ("InvalidRequest", 400)
    assert "Content-MD5" in excinfo.value.response["Error"]["Message"]


def test_compliance_version_cannot_be_deleted_by_anyone(
    s3: Any, server: ServerProcess, locked_bucket: str
) -> None:
    until = later(server, DAY)
    version = put_locked(s3, locked_bucket, "k", "COMPLIANCE", until)
    head = s3.head_object(Bucket=locked_bucket, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] == until
    denied(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version)
    denied(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    # A delete without a version id adds a marker: allowed, the version stays.
    assert s3.delete_object(Bucket=locked_bucket, Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked_bucket, Key="k", VersionId=version)["Body"].read() == b"data"
    # Retention can be extended, never shortened or relaxed.
    s3.put_object_retention(
        Bucket=locked_bucket,
        Key="k",
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(server, 2 * DAY)},
    )
    for retention in (
        {"Mode": "COMPLIANCE", "RetainUntilDate": until},
        {"Mode": "GOVERNANCE", "RetainUntilDate": later(server, 3 * DAY)},
    ):
        denied(
            s3.put_object_retention,
            Bucket=locked_bucket,
            Key="k",
            VersionId=version,
            Retention=retention,
            BypassGovernanceRetention=True,
        )
    result = s3.delete_objects(Bucket=locked_bucket, Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("k", "AccessDenied")]


def test_governance_needs_bypass(s3: Any, server: ServerProcess, locked_bucket: str) -> None:
    version = put_locked(s3, locked_bucket, "k", "GOVERNANCE", later(server, DAY))
    denied(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version)
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": later(server, 3600)}
    denied(s3.put_object_retention, Bucket=locked_bucket, Key="k", VersionId=version, Retention=shorter)
    s3.put_object_retention(
        Bucket=locked_bucket, Key="k", VersionId=version, Retention=shorter, BypassGovernanceRetention=True
    )
    got = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert got == {"Mode": "GOVERNANCE", "RetainUntilDate": shorter["RetainUntilDate"]}
    s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=locked_bucket, Key="k", VersionId=version)
    assert error_of(excinfo)[1] == 404


def test_retention_ends_at_its_date(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On a server of its own: moving the shared server's clock would expire other tests' URLs."""
    from tests.support.server import running_server

    data_dir = tmp_path_factory.mktemp("kumoi-lock-clock") / "data"
    with running_server(data_dir, args=("--test-clock",)) as own:
        s3 = own.client("s3")
        name = unique("lockclk")
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        version = put_locked(s3, name, "k", "COMPLIANCE", later(own, 30))
        denied(s3.delete_object, Bucket=name, Key="k", VersionId=version)
        advance(own, 60)
        s3.delete_object(Bucket=name, Key="k", VersionId=version)


def test_legal_hold(s3: Any, locked_bucket: str) -> None:
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_legal_hold(Bucket=locked_bucket, Key="k")
    assert error_of(excinfo) == ("NoSuchObjectLockConfiguration", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_retention(Bucket=locked_bucket, Key="k")
    assert error_of(excinfo) == ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="k", VersionId=version, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="k")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=locked_bucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    denied(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="k", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)


def test_legal_hold_needs_an_object_lock_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
    assert error_of(excinfo) == ("InvalidRequest", 400)


def test_default_retention_applies_to_new_versions(
    s3: Any, server: ServerProcess, locked_bucket: str
) -> None:
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}
    s3.put_object_lock_configuration(
        Bucket=locked_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
    )
    before = server_now(server)
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")["VersionId"]
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert abs(retention["RetainUntilDate"].timestamp() - (before + 2 * DAY)) < 60
    denied(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version)
    # Explicit headers win over the default; copies and multipart uploads get it too.
    explicit = later(server, 5 * DAY)
    other = put_locked(s3, locked_bucket, "e", "COMPLIANCE", explicit)
    assert s3.head_object(Bucket=locked_bucket, Key="e", VersionId=other)["ObjectLockMode"] == "COMPLIANCE"
    copied = s3.copy_object(Bucket=locked_bucket, Key="c", CopySource={"Bucket": locked_bucket, "Key": "k"})
    assert (
        s3.head_object(Bucket=locked_bucket, Key="c", VersionId=copied["VersionId"])["ObjectLockMode"]
        == "GOVERNANCE"
    )
    upload = s3.create_multipart_upload(Bucket=locked_bucket, Key="m", ObjectLockLegalHoldStatus="ON")[
        "UploadId"
    ]
    etag = s3.upload_part(Bucket=locked_bucket, Key="m", UploadId=upload, PartNumber=1, Body=b"y")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=locked_bucket,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    head = s3.head_object(Bucket=locked_bucket, Key="m", VersionId=done["VersionId"])
    assert head["ObjectLockLegalHoldStatus"] == "ON" and head["ObjectLockMode"] == "GOVERNANCE"


def test_bypass_needs_its_permission_under_enforcement(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.integration.iam.conftest import make_client
    from tests.support.server import running_server

    data_dir = tmp_path_factory.mktemp("kumoi-lock-enforce") / "data"
    with running_server(data_dir, args=("--enforce-iam",)) as enforcing:
        root_iam = make_client(enforcing.endpoint, "iam")
        root_s3 = make_client(enforcing.endpoint, "s3")
        name = unique("lockenf")
        root_s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        version = put_locked(root_s3, name, "k", "GOVERNANCE", until)

        def user(allow_bypass: bool) -> Any:
            user_name = unique("locker")
            root_iam.create_user(UserName=user_name)
            statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
            if not allow_bypass:
                statements.append(
                    {"Effect": "Deny", "Action": "s3:BypassGovernanceRetention", "Resource": "*"}
                )
            root_iam.put_user_policy(
                UserName=user_name,
                PolicyName="s3",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )
            key = root_iam.create_access_key(UserName=user_name)["AccessKey"]
            return make_client(enforcing.endpoint, "s3", key["AccessKeyId"], key["SecretAccessKey"])

        without = user(allow_bypass=False)
        with pytest.raises(ClientError) as excinfo:
            without.delete_object(Bucket=name, Key="k", VersionId=version, BypassGovernanceRetention=True)
        assert error_of(excinfo) == ("AccessDenied", 403)
        user(allow_bypass=True).delete_object(
            Bucket=name, Key="k", VersionId=version, BypassGovernanceRetention=True
        )


def test_lock_survives_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.support.server import running_server

    data_dir = tmp_path_factory.mktemp("kumoi-lock-restart") / "data"
    until = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=1)
    name = unique("lockrs")
    with running_server(data_dir) as first:
        s3 = first.client("s3")
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        version = put_locked(s3, name, "k", "COMPLIANCE", until)
        hold = s3.put_object(Bucket=name, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    with running_server(data_dir) as second:
        s3 = second.client("s3")
        denied(s3.delete_object, Bucket=name, Key="k", VersionId=version)
        denied(s3.delete_object, Bucket=name, Key="h", VersionId=hold)
        retention = s3.get_object_retention(Bucket=name, Key="k")["Retention"]
        assert retention == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
        assert (
            s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]["ObjectLockEnabled"]
            == "Enabled"
        )
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
        assert error_of(excinfo) == ("InvalidBucketState", 409)
