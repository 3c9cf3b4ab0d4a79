"""A user's SSH public keys, signing certificates and service-specific credentials, and the
account's server certificates, through boto3, with their errors; and DeleteUser refusing while
any of them is left (what Terraform's force_destroy cleans up)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from kumoi.services.iam.keymaterial import parse_ssh_public_key
from tests.integration.iam.conftest import unique
from tests.integration.iam.material import certificate, private_pem, rsa_key, ssh_public_key
from tests.integration.iam.test_iam_api import error_of


@pytest.fixture(scope="module")
def unchecked_iam(client_factory: Callable[..., Any]) -> Any:
    """A client that sends values botocore would refuse, to see the server's own checks."""
    return client_factory("iam", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


@pytest.fixture
def user(iam: Any) -> Iterator[str]:
    name = unique("creds")
    iam.create_user(UserName=name)
    yield name
    for key in iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]:
        iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
    for cert in iam.list_signing_certificates(UserName=name)["Certificates"]:
        iam.delete_signing_certificate(UserName=name, CertificateId=cert["CertificateId"])
    for cred in iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]:
        iam.delete_service_specific_credential(
            UserName=name, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"]
        )
    iam.delete_user(UserName=name)


# --- SSH public keys -------------------------------------------------------------------------------


def test_ssh_key_lifecycle(iam: Any, user: str) -> None:
    body = ssh_public_key()
    key = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=body + " me@laptop")["SSHPublicKey"]
    assert key["SSHPublicKeyId"].startswith("APKA") and key["Status"] == "Active"
    assert key["Fingerprint"] == parse_ssh_public_key(body).fingerprint
    assert key["SSHPublicKeyBody"] == body
    key_id = key["SSHPublicKeyId"]
    pem = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Encoding="PEM")["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----")
    assert pem["Fingerprint"] == key["Fingerprint"]
    listed = iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"]
    assert [(item["SSHPublicKeyId"], item["Status"]) for item in listed] == [(key_id, "Active")]
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Status="Inactive")
    got = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Encoding="SSH")["SSHPublicKey"]
    assert got["Status"] == "Inactive"
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove referenced objects first.",
    )
    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key_id)
    with pytest.raises(ClientError) as caught:
        iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Encoding="SSH")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_ssh_key_errors(iam: Any, unchecked_iam: Any, user: str) -> None:
    body = ssh_public_key()
    iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=body)
    cases = [
        (body, "DuplicateSSHPublicKey", 400),
        ("hello there", "UnrecognizedPublicKeyEncoding", 400),
        ("ssh-rsa AAAAnotakey", "InvalidPublicKey", 400),
        (ssh_public_key(rsa_key(1024)), "InvalidPublicKey", 400),
    ]
    for upload, code, status in cases:
        with pytest.raises(ClientError) as caught:
            iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=upload)
        assert error_of(caught)[:2] == (code, status), upload
    for _ in range(4):
        iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=ssh_public_key())
    with pytest.raises(ClientError) as caught:
        iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=ssh_public_key())
    assert error_of(caught) == ("LimitExceeded", 409, "Cannot exceed quota for PublicKeysPerUser: 5")
    with pytest.raises(ClientError) as caught:
        iam.upload_ssh_public_key(UserName=unique("nobody"), SSHPublicKeyBody=ssh_public_key())
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    key_id = iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"][0]["SSHPublicKeyId"]
    with pytest.raises(ClientError) as caught:
        unchecked_iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Status="Expired")
    assert error_of(caught)[:2] == ("ValidationError", 400)
    with pytest.raises(ClientError) as caught:
        unchecked_iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key_id, Encoding="DER")
    assert error_of(caught)[:2] == ("ValidationError", 400)


def test_renamed_user_keeps_its_credentials(iam: Any) -> None:
    name, renamed = unique("rename"), unique("renamed")
    iam.create_user(UserName=name)
    key_id = iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=ssh_public_key())["SSHPublicKey"][
        "SSHPublicKeyId"
    ]
    iam.update_user(UserName=name, NewUserName=renamed)
    listed = iam.list_ssh_public_keys(UserName=renamed)["SSHPublicKeys"]
    assert [(item["SSHPublicKeyId"], item["UserName"]) for item in listed] == [(key_id, renamed)]
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=renamed)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    iam.delete_ssh_public_key(UserName=renamed, SSHPublicKeyId=key_id)
    iam.delete_user(UserName=renamed)


# --- signing certificates --------------------------------------------------------------------------


def test_signing_certificate_lifecycle(iam: Any, user: str) -> None:
    body = certificate(rsa_key())
    cert = iam.upload_signing_certificate(UserName=user, CertificateBody=body)["Certificate"]
    assert cert["UserName"] == user and cert["Status"] == "Active" and len(cert["CertificateId"]) >= 24
    cert_id = cert["CertificateId"]
    iam.update_signing_certificate(UserName=user, CertificateId=cert_id, Status="Inactive")
    listed = iam.list_signing_certificates(UserName=user)["Certificates"]
    assert [(item["CertificateId"], item["Status"]) for item in listed] == [(cert_id, "Inactive")]
    assert listed[0]["CertificateBody"] == body
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete certificates first.",
    )
    iam.delete_signing_certificate(UserName=user, CertificateId=cert_id)
    with pytest.raises(ClientError) as caught:
        iam.delete_signing_certificate(UserName=user, CertificateId=cert_id)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_signing_certificate_errors(iam: Any, user: str) -> None:
    body = certificate(rsa_key())
    iam.upload_signing_certificate(UserName=user, CertificateBody=body)
    cases = [
        (body, "DuplicateCertificate", 409),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "MalformedCertificate", 400),
        (certificate(rsa_key(), days=1, starts_in_days=-10), "InvalidCertificate", 400),
    ]
    for upload, code, status in cases:
        with pytest.raises(ClientError) as caught:
            iam.upload_signing_certificate(UserName=user, CertificateBody=upload)
        assert error_of(caught)[:2] == (code, status)
    iam.upload_signing_certificate(UserName=user, CertificateBody=certificate(rsa_key()))
    with pytest.raises(ClientError) as caught:
        iam.upload_signing_certificate(UserName=user, CertificateBody=certificate(rsa_key()))
    assert error_of(caught) == ("LimitExceeded", 409, "Cannot exceed quota for SigningCertificatesPerUser: 2")


# --- service-specific credentials ------------------------------------------------------------------


def test_service_specific_credential_lifecycle(iam: Any, user: str) -> None:
    created = iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredential"
    ]
    assert created["ServiceUserName"] == f"{user}-at-000000000000"
    assert created["ServicePassword"] and created["Status"] == "Active"
    cred_id = created["ServiceSpecificCredentialId"]
    listed = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    assert [item["ServiceSpecificCredentialId"] for item in listed] == [cred_id]
    assert "ServicePassword" not in listed[0]
    reset = iam.reset_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)
    assert reset["ServiceSpecificCredential"]["ServicePassword"] != created["ServicePassword"]
    iam.update_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=cred_id, Status="Inactive"
    )
    everyone = iam.list_service_specific_credentials(AllUsers=True, ServiceName="codecommit.amazonaws.com")
    mine = [item for item in everyone["ServiceSpecificCredentials"] if item["UserName"] == user]
    assert [item["Status"] for item in mine] == ["Inactive"]
    bedrock = iam.create_service_specific_credential(
        UserName=user, ServiceName="bedrock.amazonaws.com", CredentialAgeDays=30
    )["ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialSecret"] and "ExpirationDate" in bedrock
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    iam.delete_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)
    with pytest.raises(ClientError) as caught:
        iam.reset_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_service_specific_credential_errors(iam: Any, user: str) -> None:
    with pytest.raises(ClientError) as caught:
        iam.create_service_specific_credential(UserName=user, ServiceName="s3.amazonaws.com")
    assert error_of(caught)[:2] == ("NotSupportedService", 404)
    for _ in range(2):
        iam.create_service_specific_credential(UserName=user, ServiceName="cassandra.amazonaws.com")
    with pytest.raises(ClientError) as caught:
        iam.create_service_specific_credential(UserName=user, ServiceName="cassandra.amazonaws.com")
    assert error_of(caught)[:2] == ("LimitExceeded", 409)
    with pytest.raises(ClientError) as caught:
        iam.create_service_specific_credential(
            UserName=unique("nobody"), ServiceName="cassandra.amazonaws.com"
        )
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


# --- server certificates ---------------------------------------------------------------------------


@pytest.fixture
def server_cert_name(iam: Any) -> Iterator[str]:
    name = unique("cert")
    yield name
    for item in iam.list_server_certificates()["ServerCertificateMetadataList"]:
        if item["ServerCertificateName"].startswith(name):
            iam.delete_server_certificate(ServerCertificateName=item["ServerCertificateName"])


def test_server_certificate_lifecycle(iam: Any, server_cert_name: str) -> None:
    key = rsa_key()
    body, chain = certificate(key), certificate(rsa_key(), name="ca")
    out = iam.upload_server_certificate(
        ServerCertificateName=server_cert_name,
        Path="/cloudfront/",
        CertificateBody=body,
        PrivateKey=private_pem(key),
        CertificateChain=chain,
        Tags=[{"Key": "env", "Value": "test"}],
    )
    meta = out["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::000000000000:server-certificate/cloudfront/{server_cert_name}"
    assert meta["ServerCertificateId"].startswith("ASCA") and "Expiration" in meta
    got = iam.get_server_certificate(ServerCertificateName=server_cert_name)["ServerCertificate"]
    assert got["CertificateBody"] == body and got["CertificateChain"] == chain
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]
    assert server_cert_name in [item["ServerCertificateName"] for item in listed]
    iam.tag_server_certificate(ServerCertificateName=server_cert_name, Tags=[{"Key": "team", "Value": "web"}])
    iam.untag_server_certificate(ServerCertificateName=server_cert_name, TagKeys=["env"])
    tags = iam.list_server_certificate_tags(ServerCertificateName=server_cert_name)["Tags"]
    assert tags == [{"Key": "team", "Value": "web"}]
    renamed = server_cert_name + "-v2"
    iam.update_server_certificate(
        ServerCertificateName=server_cert_name, NewServerCertificateName=renamed, NewPath="/elb/"
    )
    meta = iam.get_server_certificate(ServerCertificateName=renamed)["ServerCertificate"][
        "ServerCertificateMetadata"
    ]
    assert meta["Arn"].endswith(f":server-certificate/elb/{renamed}")
    with pytest.raises(ClientError) as caught:
        iam.get_server_certificate(ServerCertificateName=server_cert_name)
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The Server Certificate with name {server_cert_name} cannot be found.",
    )
    iam.delete_server_certificate(ServerCertificateName=renamed)


def test_server_certificate_errors(iam: Any, server_cert_name: str) -> None:
    key = rsa_key()
    body = certificate(key)
    iam.upload_server_certificate(
        ServerCertificateName=server_cert_name, CertificateBody=body, PrivateKey=private_pem(key)
    )
    cases = [
        ({"PrivateKey": private_pem(key)}, "EntityAlreadyExists", 409, server_cert_name),
        ({"PrivateKey": private_pem(rsa_key())}, "KeyPairMismatch", 400, server_cert_name + "-b"),
        (
            {"PrivateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"},
            "MalformedCertificate",
            400,
            server_cert_name + "-c",
        ),
        (
            {"PrivateKey": private_pem(key), "CertificateChain": "not a chain"},
            "MalformedCertificate",
            400,
            server_cert_name + "-d",
        ),
    ]
    for arguments, code, status, name in cases:
        with pytest.raises(ClientError) as caught:
            iam.upload_server_certificate(ServerCertificateName=name, CertificateBody=body, **arguments)
        assert error_of(caught)[:2] == (code, status), code
    with pytest.raises(ClientError) as caught:
        iam.upload_server_certificate(
            ServerCertificateName=server_cert_name + "-e",
            CertificateBody="garbage",
            PrivateKey=private_pem(key),
        )
    assert error_of(caught)[:2] == ("MalformedCertificate", 400)
    with pytest.raises(ClientError) as caught:
        iam.delete_server_certificate(ServerCertificateName=server_cert_name + "-missing")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
