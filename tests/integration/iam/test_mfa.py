"""Virtual MFA devices through boto3: the seed, enabling with two consecutive TOTP codes,
listings by assignment, resync, tags, deactivation and deletion, with their errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import unique
from tests.integration.iam.material import codes
from tests.integration.iam.test_iam_api import error_of
from tests.support.server import ServerProcess


@pytest.fixture
def device(iam: Any) -> Iterator[dict[str, Any]]:
    created = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=unique("mfa"), Path="/team/", Tags=[{"Key": "owner", "Value": "ops"}]
    )["VirtualMFADevice"]
    yield created
    with contextlib.suppress(ClientError):
        iam.delete_virtual_mfa_device(SerialNumber=created["SerialNumber"])


@pytest.fixture
def user(iam: Any) -> Iterator[str]:
    name = unique("mfa-user")
    iam.create_user(UserName=name)
    yield name
    for item in iam.list_mfa_devices(UserName=name)["MFADevices"]:
        iam.deactivate_mfa_device(UserName=name, SerialNumber=item["SerialNumber"])
    iam.delete_user(UserName=name)


def test_device_lifecycle(iam: Any, device: dict[str, Any], user: str, server: ServerProcess) -> None:
    serial = device["SerialNumber"]
    assert serial.startswith("arn:aws:iam::000000000000:mfa/team/mfa-")
    seed = device["Base32StringSeed"]
    assert len(seed) == 64
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert serial in [item["SerialNumber"] for item in unassigned]
    first, second = codes(server.endpoint, seed)
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
    )
    listed = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert [(item["UserName"], item["SerialNumber"]) for item in listed] == [(user, serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    mine = next(item for item in assigned if item["SerialNumber"] == serial)
    assert mine["User"]["UserName"] == user and "EnableDate" in mine
    assert "Base32StringSeed" not in mine
    got = iam.get_mfa_device(SerialNumber=serial, UserName=user)
    assert got["UserName"] == user and got["SerialNumber"] == serial
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == ("DeleteConflict", 409, "Cannot delete entity, must delete MFA device first.")
    with pytest.raises(ClientError) as caught:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    later_first, later_second = codes(server.endpoint, seed, offset_steps=2)
    iam.resync_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1=later_first, AuthenticationCode2=later_second
    )
    with pytest.raises(ClientError) as caught:
        iam.resync_mfa_device(
            UserName=user,
            SerialNumber=serial,
            AuthenticationCode1=later_first,
            AuthenticationCode2=later_second,
        )
    assert error_of(caught)[:2] == ("InvalidAuthenticationCode", 403)
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    with pytest.raises(ClientError) as caught:
        iam.get_mfa_device(SerialNumber=serial)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as caught:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_enable_errors(iam: Any, device: dict[str, Any], user: str, server: ServerProcess) -> None:
    serial, seed = device["SerialNumber"], device["Base32StringSeed"]
    first, second = codes(server.endpoint, seed)
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName=user, SerialNumber=serial, AuthenticationCode1=second, AuthenticationCode2=first
        )
    assert error_of(caught) == (
        "InvalidAuthenticationCode",
        403,
        "Authentication code for device is not valid.",
    )
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName=user, SerialNumber=serial, AuthenticationCode1="000000", AuthenticationCode2="000000"
        )
    assert error_of(caught)[:2] == ("InvalidAuthenticationCode", 403)
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName=unique("nobody"),
            SerialNumber=serial,
            AuthenticationCode1=first,
            AuthenticationCode2=second,
        )
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName=user,
            SerialNumber=serial + "x",
            AuthenticationCode1=first,
            AuthenticationCode2=second,
        )
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
    )
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName=user, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
        )
    assert error_of(caught)[:2] == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as caught:
        iam.deactivate_mfa_device(UserName=user, SerialNumber=serial + "x")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_duplicate_device_and_tags(iam: Any, device: dict[str, Any]) -> None:
    serial = device["SerialNumber"]
    name = serial.rsplit("/", 1)[-1]
    with pytest.raises(ClientError) as caught:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/team/")
    assert error_of(caught)[:2] == ("EntityAlreadyExists", 409)
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "tier", "Value": "gold"}])
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["owner"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "tier", "Value": "gold"}]
    with pytest.raises(ClientError) as caught:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert error_of(caught)[:2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as caught:
        iam.list_mfa_device_tags(SerialNumber=serial + "x")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_virtual_device_listing_pages(iam: Any) -> None:
    serials = [
        iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("page"))["VirtualMFADevice"]["SerialNumber"]
        for _ in range(3)
    ]
    try:
        seen: list[str] = []
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 2}):
            seen += [item["SerialNumber"] for item in page["VirtualMFADevices"]]
        assert set(serials) <= set(seen) and len(seen) == len(set(seen))
    finally:
        for serial in serials:
            iam.delete_virtual_mfa_device(SerialNumber=serial)
