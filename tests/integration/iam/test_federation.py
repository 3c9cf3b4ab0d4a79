"""AssumeRoleWithWebIdentity (a JWT signed here with ``cryptography``, checked against a JWKS file),
through boto3 (AssumeRoleWithSAML has its own module, ``test_saml.py``).

SDKs send these two calls unsigned. The server's SigV4 step still refuses unsigned non-S3
requests before the operation is known (``MissingAuthenticationToken``), so these tests sign them
(the provider ignores the caller; the token or assertion is the proof) until the pipeline lets
anonymous operations of query services through.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.integration.iam.conftest import unique

ACCOUNT = "000000000000"
ISSUER = "https://idp.example.com"
AUDIENCE = "kumoi-app"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def number(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Idp:
    def __init__(self, directory: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self.key.public_key().public_numbers()
        self.jwks = directory / "jwks.json"
        jwk = {
            "kty": "RSA",
            "kid": "k1",
            "alg": "RS256",
            "use": "sig",
            "n": number(public.n),
            "e": number(public.e),
        }
        self.jwks.write_text(json.dumps({"keys": [jwk]}))

    def token(self, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "iat": now, "exp": now + 600, **claims}
        header = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(body).encode())
        signer = key or self.key
        signature = signer.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64url(signature)}"


@pytest.fixture(scope="module")
def sts(client_factory: Callable[..., Any]) -> Any:
    # botocore sends AssumeRoleWithWebIdentity and AssumeRoleWithSAML unsigned, as AWS expects.
    return client_factory("sts")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory, iam: Any) -> Idp:
    provider = Idp(tmp_path_factory.mktemp("idp"))
    existing = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"
    if arn in existing:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    iam.create_open_id_connect_provider(
        Url=ISSUER,
        ClientIDList=[AUDIENCE],
        ThumbprintList=["a" * 40],
        Tags=[{"Key": "kumoi:jwks-file", "Value": str(provider.jwks)}],
    )
    return provider


def web_role(iam: Any, subject: str = "user-42") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"idp.example.com:aud": AUDIENCE, "idp.example.com:sub": subject}
                },
            }
        ],
    }
    name = unique("web")
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_oidc_provider_api(iam: Any, idp: Idp) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["Url"] == "idp.example.com" and provider["ClientIDList"] == [AUDIENCE]
    with pytest.raises(ClientError) as caught:
        iam.create_open_id_connect_provider(Url=ISSUER, ThumbprintList=["a" * 40])
    assert error_of(caught) == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as caught:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn + "x")
    assert error_of(caught) == ("NoSuchEntity", 404)


def test_assume_role_with_web_identity(sts: Any, iam: Any, idp: Idp) -> None:
    role_arn = web_role(iam)
    answer = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="web-session", WebIdentityToken=idp.token()
    )
    assert answer["SubjectFromWebIdentityToken"] == "user-42"
    assert answer["Audience"] == AUDIENCE and answer["Provider"] == "idp.example.com"
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert answer["AssumedRoleUser"]["Arn"].endswith("/web-session")


@pytest.mark.parametrize(
    ("claims", "forged", "code", "status"),
    [
        ({"exp": int(time.time()) - 60}, False, "ExpiredTokenException", 400),
        ({"aud": "someone-else"}, False, "InvalidIdentityToken", 400),
        ({"iss": "https://unknown.example.com"}, False, "InvalidIdentityToken", 400),
        ({"sub": "user-43"}, False, "AccessDenied", 403),
        ({}, True, "InvalidIdentityToken", 400),
    ],
)
def test_web_identity_rejections(
    sts: Any, iam: Any, idp: Idp, claims: dict[str, Any], forged: bool, code: str, status: int
) -> None:
    role_arn = web_role(iam)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048) if forged else None
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="web-session", WebIdentityToken=idp.token(other, **claims)
        )
    assert error_of(caught) == (code, status)


def test_malformed_web_identity_token(sts: Any, iam: Any, idp: Idp) -> None:
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_web_identity(
            RoleArn=web_role(iam), RoleSessionName="web-session", WebIdentityToken="not-a-jwt-token"
        )
    assert error_of(caught) == ("InvalidIdentityToken", 400)
