"""Pure parts of IAM's user credentials: TOTP (RFC 6238's published vectors), SSH key parsing and
fingerprints (checked against ``ssh-keygen -l -E md5``), password hashing and policy rules, and
the context keys of policies."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumoi.services.iam import api
from kumoi.services.iam.account import context_keys
from kumoi.services.iam.keymaterial import (
    InvalidKey,
    MalformedCertificate,
    UnrecognizedEncoding,
    parse_certificate,
    parse_ssh_public_key,
)
from kumoi.services.iam.passwords import hash_password, policy_violations, verify_password
from kumoi.services.iam.servicelinked import role_name_for
from kumoi.services.iam.totp import find_consecutive, hotp, new_seed, seed_key, totp

#: RFC 6238 appendix B: the SHA-1 seed and its 8-digit codes at the listed times.
RFC6238_SEED = b"12345678901234567890"
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
#: RFC 4226 appendix D: HOTP values of the same seed for counters 0..9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

#: A 2048-bit key made with ssh-keygen; ``ssh-keygen -l -E md5`` printed SSH_MD5 for it.
SSH_RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCznA5EyKngCc9uUIZpnnCqGEgoH0iHsvvtNOOlEet3sy/jQR66CDqlPRPN/iX9"
    "AF71Wxc5K8GauRop0rynxgXOB9V5olKiCdM5GYo4ks8WviTp98kC2GWQ5sE1hLLQyQtBFLLYAb8GcV0Uyynbb20bzuOaAYVj3K"
    "YEma1IHi+x+LOLyveamgeE9aryIliyNARG8iGKLmcR81ndD/kUNfZJHV0Abthgoeii3xol/tIPrj2SZ00ggFUrPZUeRq38f4Tf/"
    "SiutnlymJBjA44hkyFbO2+rFoXZRiI8ESWtnjm7/u/B7k9C7xLwGwiNw/I7kT6PfNcRBbMPF7hqoYWkjoNd user@host"
)
SSH_MD5 = "d8:d1:a4:b8:0f:6a:52:4d:65:24:0d:ce:70:4d:04:00"
#: The same key as ``ssh-keygen -e -m PKCS8`` writes it.
SSH_RSA_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs5wORMip4AnPblCGaZ5w
qhhIKB9Ih7L77TTjpRHrd7Mv40Eeugg6pT0Tzf4l/QBe9VsXOSvBmrkaKdK8p8YF
zgfVeaJSognTORmKOJLPFr4k6ffJAthlkObBNYSy0MkLQRSy2AG/BnFdFMsp229t
G87jmgGFY9ymBJmtSB4vsfizi8r3mpoHhPWq8iJYsjQERvIhii5nEfNZ3Q/5FDX2
SR1dAG7YYKHoot8aJf7SD649kmdNIIBVKz2VHkat/H+E3/0orrZ5cpiQYwOOIZMh
WztvqxaF2UYiPBElrZ45u/7vwe5PQu8S8BsIjcPyO5E+j3zXEQWzDxe4aqGFpI6D
XQIDAQAB
-----END PUBLIC KEY-----
"""
SSH_ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBpeinErHpyUN+bwMw7VE1PPMCvAofL6bNL/fU3wN1LU user@host"
SSH_RSA_1024 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC1ruFzy9BV9STOoj+JiLSpBkE/UbS9FquCrPK9/BTPm9dVdEaTv/Q+b7td8EfOde"
    "rUij8SJ1bZshbkZLUEaekdrf+KJRBuX33PqjchMFuKAlMnFGz4JH+qq0IQ3icLMYotDjqCCxaGkOKMGsfKcwu+0S10FovOs9xsvMl"
    "GWWvMOQ== user@host"
)


@pytest.mark.parametrize(("now", "code"), RFC6238_SHA1)
def test_totp_matches_rfc6238_vectors(now: int, code: str) -> None:
    assert totp(RFC6238_SEED, now, digits=8) == code


def test_hotp_matches_rfc4226_vectors() -> None:
    assert [hotp(RFC6238_SEED, counter) for counter in range(10)] == RFC4226


def test_seed_is_64_base32_characters_of_40_bytes() -> None:
    seed = new_seed()
    assert len(seed) == 64
    assert len(seed_key(seed)) == 40


def test_consecutive_codes_are_found_within_the_window_only() -> None:
    key = seed_key(new_seed())
    now = 1_700_000_000.0
    first, second = totp(key, now), totp(key, now + 30)
    assert find_consecutive(key, first, second, now, window=2) == int(now // 30) + 1
    assert find_consecutive(key, second, first, now, window=2) is None
    later = now + 30 * 10
    assert find_consecutive(key, first, second, later, window=2) is None
    assert find_consecutive(key, first, second, later, window=20) == int(now // 30) + 1


def test_ssh_fingerprint_is_ssh_keygens_md5() -> None:
    key = parse_ssh_public_key(SSH_RSA)
    assert key.fingerprint == SSH_MD5
    assert key.openssh == SSH_RSA.rsplit(" ", 1)[0]
    assert key.pem == SSH_RSA_PEM


def test_pem_upload_has_the_same_fingerprint() -> None:
    assert parse_ssh_public_key(SSH_RSA_PEM).fingerprint == SSH_MD5


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not a key at all", UnrecognizedEncoding),
        ("ssh-rsa AAAA!!!notbase64", InvalidKey),
        (SSH_ED25519, InvalidKey),
        (SSH_RSA_1024, InvalidKey),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", InvalidKey),
    ],
)
def test_unusable_ssh_keys(body: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_ssh_public_key(body)


def test_malformed_certificate() -> None:
    with pytest.raises(MalformedCertificate):
        parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


def test_password_hash_round_trip_and_salting() -> None:
    first, second = hash_password("Correct-Horse-1"), hash_password("Correct-Horse-1")
    assert first != second
    assert "Correct-Horse-1" not in first
    assert verify_password("Correct-Horse-1", first)
    assert not verify_password("Correct-Horse-2", first)


@pytest.mark.parametrize(
    ("password", "ok"),
    [("Abcdefg1", True), ("abcdefg1!", True), ("abcdefgh1", False), ("Ab1!", False), ("ABCDEFGH", False)],
)
def test_default_policy(password: str, ok: bool) -> None:
    assert (policy_violations(password, None) == []) is ok


def test_custom_policy_rules() -> None:
    policy = {"MinimumPasswordLength": 10, "RequireSymbols": True, "RequireNumbers": True}
    assert policy_violations("abcdefghij1!", policy) == []
    assert policy_violations("abcdefghij1", policy) == ["at least one of symbols"]
    assert policy_violations("abc", {"MinimumPasswordLength": 6}) == ["at least 6 characters"]


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), min_size=1, max_size=40))
def test_policy_without_rules_checks_only_length(password: str) -> None:
    assert (policy_violations(password, {"MinimumPasswordLength": 6}) == []) is (len(password) >= 6)


def test_context_keys_of_conditions_and_variables() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/${aws:username}/*",
                "Condition": {
                    "StringEquals": {"aws:RequestedRegion": "us-east-1", "s3:prefix": "home/"},
                    "Bool": {"aws:SecureTransport": "true", "aws:securetransport": "true"},
                },
            }
        ],
    }
    assert context_keys([json.dumps(policy)]) == [
        "aws:RequestedRegion",
        "aws:SecureTransport",
        "aws:username",
        "s3:prefix",
    ]
    with pytest.raises(api.InvalidInputException):
        context_keys(["{not json"])


@pytest.mark.parametrize(
    ("service", "suffix", "name"),
    [
        ("autoscaling.amazonaws.com", None, "AWSServiceRoleForAutoScaling"),
        ("elasticbeanstalk.amazonaws.com", "prod", "AWSServiceRoleForElasticBeanstalk_prod"),
        ("glue.amazonaws.com", None, "AWSServiceRoleForGlue"),
    ],
)
def test_service_linked_role_names(service: str, suffix: str | None, name: str) -> None:
    assert role_name_for(service, suffix) == name


def test_base32_seed_decodes_as_authenticator_apps_do() -> None:
    seed = new_seed()
    assert base64.b32decode(seed) == seed_key(seed)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.binary(min_size=10, max_size=40),
    now=st.floats(min_value=60, max_value=4e9, allow_nan=False),
    drift=st.integers(min_value=-2, max_value=2),
)
def test_codes_of_any_two_consecutive_steps_in_the_window_are_accepted(
    seed: bytes, now: float, drift: int
) -> None:
    device_time = now + drift * 30
    first, second = totp(seed, device_time), totp(seed, device_time + 30)
    step = find_consecutive(seed, first, second, now, window=2)
    assert step is not None
    assert hotp(seed, step) == second and hotp(seed, step - 1) == first
