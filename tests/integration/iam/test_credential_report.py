"""GenerateCredentialReport / GetCredentialReport through boto3: AWS's columns and values for the
root row and for users with passwords, keys, MFA and signing certificates; the report's
four-hour life on the server's test clock; and that it survives a restart."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.crt.auth
import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import advance_clock, make_client, unique
from tests.integration.iam.material import certificate, codes, rsa_key
from tests.integration.iam.test_iam_api import error_of
from tests.support.server import ServerProcess, running_server

COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]

#: How long a report stays valid.
LIFETIME = 4 * 3600


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("credential-report") / "data"


@pytest.fixture(scope="module")
def clocked(data_dir: Path) -> Iterator[ServerProcess]:
    with running_server(data_dir, args=("--test-clock",)) as server:
        yield server


def report_rows(iam: Any) -> list[dict[str, str]]:
    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    assert isinstance(got["GeneratedTime"], datetime)
    text = got["Content"].decode("utf-8")
    assert text.splitlines()[0].split(",") == COLUMNS
    return list(csv.DictReader(io.StringIO(text)))


def test_report_lifecycle_and_columns(clocked: ServerProcess) -> None:
    iam = make_client(clocked.endpoint, "iam")
    with pytest.raises(ClientError) as caught:
        iam.get_credential_report()
    assert error_of(caught)[:2] == ("ReportNotPresent", 410)

    bare = unique("bare")
    iam.create_user(UserName=bare)
    full = unique("full")
    iam.create_user(UserName=full)
    iam.update_account_password_policy(MinimumPasswordLength=8, MaxPasswordAge=90)
    iam.create_login_profile(UserName=full, Password="Correct-Horse-9")
    first = iam.create_access_key(UserName=full)["AccessKey"]
    second = iam.create_access_key(UserName=full)["AccessKey"]
    iam.update_access_key(UserName=full, AccessKeyId=second["AccessKeyId"], Status="Inactive")
    make_client(clocked.endpoint, "iam", first["AccessKeyId"], first["SecretAccessKey"]).get_user()
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))["VirtualMFADevice"]
    one, two = codes(clocked.endpoint, device["Base32StringSeed"])
    iam.enable_mfa_device(
        UserName=full, SerialNumber=device["SerialNumber"], AuthenticationCode1=one, AuthenticationCode2=two
    )
    iam.upload_signing_certificate(UserName=full, CertificateBody=certificate(rsa_key()))

    started = iam.generate_credential_report()
    assert started == {
        "State": "STARTED",
        "Description": "No report exists. Starting a new report generation task",
        "ResponseMetadata": started["ResponseMetadata"],
    }
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    rows = {row["user"]: row for row in report_rows(iam)}

    root = rows["<root_account>"]
    assert root["arn"] == "arn:aws:iam::000000000000:root"
    assert root["password_enabled"] == "not_supported"
    assert root["access_key_1_active"] == "false" and root["access_key_1_last_rotated"] == "N/A"

    empty = rows[bare]
    assert empty["arn"] == f"arn:aws:iam::000000000000:user/{bare}"
    assert datetime.fromisoformat(empty["user_creation_time"]).utcoffset() is not None
    assert [empty[name] for name in ("password_enabled", "password_last_used", "mfa_active")] == [
        "false",
        "N/A",
        "false",
    ]
    assert empty["access_key_1_active"] == "false" and empty["cert_1_active"] == "false"

    row = rows[full]
    assert row["password_enabled"] == "true" and row["password_last_used"] == "no_information"
    changed = datetime.fromisoformat(row["password_last_changed"])
    rotation = datetime.fromisoformat(row["password_next_rotation"])
    assert (rotation - changed).days == 90
    assert row["mfa_active"] == "true"
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_used_service"] == "iam"
    assert row["access_key_1_last_used_region"] == "us-east-1"
    assert datetime.fromisoformat(row["access_key_1_last_used_date"]) >= changed.replace(microsecond=0)
    assert row["access_key_2_active"] == "false" and row["access_key_2_last_used_date"] == "N/A"
    assert row["access_key_2_last_rotated"] != "N/A"
    assert row["cert_1_active"] == "true" and row["cert_2_active"] == "false"
    assert row["cert_2_last_rotated"] == "N/A"


def test_key_use_is_recorded_for_every_service(clocked: ServerProcess) -> None:
    iam = make_client(clocked.endpoint, "iam")
    name = unique("worker")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"] == {
        "ServiceName": "N/A",
        "Region": "N/A",
    }
    make_client(clocked.endpoint, "sqs", key["AccessKeyId"], key["SecretAccessKey"]).list_queues()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sqs", "us-east-1")
    assert isinstance(used["LastUsedDate"], datetime)


def test_report_survives_restart_then_expires(
    clocked: ServerProcess, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = make_client(clocked.endpoint, "iam")
    iam.generate_credential_report()
    before = iam.get_credential_report()
    clocked.stop()
    with running_server(data_dir, args=("--test-clock",)) as again:
        iam = make_client(again.endpoint, "iam")
        after = iam.get_credential_report()
        assert after["Content"] == before["Content"]
        assert after["GeneratedTime"] == before["GeneratedTime"]
        advance_clock(again.endpoint, LIFETIME)
        original = botocore.auth.get_current_datetime
        for module in (botocore.auth, botocore.crt.auth):  # sign as if the client's clock had moved too
            monkeypatch.setattr(
                module,
                "get_current_datetime",
                lambda *a, **k: original(*a, **k) + timedelta(seconds=LIFETIME),
            )
        with pytest.raises(ClientError) as caught:
            iam.get_credential_report()
        assert error_of(caught)[:2] == ("ReportExpired", 410)
        assert iam.generate_credential_report()["State"] == "STARTED"
        assert iam.get_credential_report()["GeneratedTime"] > before["GeneratedTime"]
