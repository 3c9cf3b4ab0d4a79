"""The self-service policy AWS documents for MFA and credentials: a user manages only its own
MFA device and keys, named by ``${aws:username}``, under enforcement."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam.conftest import Identities, unique

SELF_SERVICE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/${aws:username}",
        },
        {
            "Effect": "Allow",
            "Action": ["iam:ListMFADevices", "iam:ListSSHPublicKeys", "iam:ListAccessKeys"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
    ],
}


def test_a_user_manages_only_its_own_mfa_device(identities: Identities) -> None:
    name = unique("self")
    me = identities.client("iam", identities.user(name, inline=SELF_SERVICE))
    device = me.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    assert device["SerialNumber"].endswith(f":mfa/{name}")
    assert me.list_mfa_devices()["MFADevices"] == []
    assert me.list_ssh_public_keys()["SSHPublicKeys"] == []
    assert len(me.list_access_keys()["AccessKeyMetadata"]) == 1
    with pytest.raises(ClientError) as caught:
        me.create_virtual_mfa_device(VirtualMFADeviceName=unique("other"))
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as caught:
        me.list_mfa_devices(UserName="someone-else")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    me.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
