"""OpenID Connect tokens (JWT) for AssumeRoleWithWebIdentity, verified offline.

The token must be an RS256 JWT whose ``iss`` is an OIDC provider registered in the role's account
(IAM CreateOpenIDConnectProvider), whose ``aud`` is one of that provider's client ids, and whose
signature verifies against one of the provider's keys. kumoi does not fetch keys from the
internet: a provider's JSON Web Key Set is read from the file its ``kumoi:jwks-file`` tag names
(the file an identity provider publishes at its ``jwks_uri``). RSA verification uses awscrt,
which kumoi already depends on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kumoi.services.sts import api

if TYPE_CHECKING:
    from awscrt.crypto import RSA

#: The tag of an OIDC provider that names its JWKS file.
JWKS_FILE_TAG = "kumoi:jwks-file"
#: Largest token accepted (AWS: WebIdentityToken is at most 20,000 characters).
TOKEN_MAX = 20000
#: Clock skew tolerated for ``exp``/``nbf``.
SKEW_SECONDS = 0


@dataclass(frozen=True, slots=True)
class WebToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes
    signature: bytes

    @property
    def issuer(self) -> str:
        return str(self.claims.get("iss", ""))

    @property
    def audiences(self) -> list[str]:
        aud = self.claims.get("aud", [])
        return [str(item) for item in (aud if isinstance(aud, list) else [aud])]

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub", ""))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def invalid(message: str) -> api.InvalidIdentityTokenException:
    return api.InvalidIdentityTokenException(message)


def parse_token(token: str) -> WebToken:
    if len(token) > TOKEN_MAX:
        raise invalid("The web identity token is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid("The web identity token that was passed could not be parsed")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise invalid("The web identity token that was passed could not be parsed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise invalid("The web identity token that was passed could not be parsed")
    return WebToken(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def issuer_key(issuer: str) -> str:
    """An issuer as IAM names its provider: the URL without ``https://`` or a trailing slash."""
    return issuer.removeprefix("https://").rstrip("/")


async def load_jwks(provider: dict[str, Any]) -> list[dict[str, Any]]:
    tags = {tag["Key"]: tag["Value"] for tag in provider.get("Tags", [])}
    path = tags.get(JWKS_FILE_TAG)
    if not path:
        raise api.IDPCommunicationErrorException(
            f"kumoi has no keys for the identity provider {provider['Url']}: tag it with {JWKS_FILE_TAG}"
        )
    try:
        text = await asyncio.to_thread(Path(path).read_text, "utf-8")
        keys = json.loads(text).get("keys", [])
    except (OSError, ValueError, AttributeError):
        raise api.IDPCommunicationErrorException(f"Could not read the key set of {provider['Url']}") from None
    return [key for key in keys if isinstance(key, dict)]


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_integer(value: bytes) -> bytes:
    value = value.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + _der_length(len(value)) + value


def rsa_public_key(jwk: dict[str, Any]) -> RSA:
    """An RSA JWK (``n``, ``e``) as a PKCS#1 RSAPublicKey, the DER form awscrt reads."""
    from awscrt.crypto import RSA  # imported when first needed, not at server start-up

    body = _der_integer(_b64(str(jwk["n"]))) + _der_integer(_b64(str(jwk["e"])))
    return RSA.new_public_key_from_der_data(b"\x30" + _der_length(len(body)) + body)


def verify_signature(token: WebToken, keys: list[dict[str, Any]]) -> None:
    if token.header.get("alg") != "RS256":
        raise invalid(
            f"Unsupported token signing algorithm {token.header.get('alg')!r} (kumoi accepts RS256)"
        )
    kid = token.header.get("kid")
    candidates = [key for key in keys if key.get("kty") == "RSA" and (kid is None or key.get("kid") == kid)]
    if not candidates:
        raise invalid("Couldn't retrieve verification key from your identity provider")
    from awscrt.crypto import RSASignatureAlgorithm

    digest = hashlib.sha256(token.signed).digest()
    for key in candidates:
        try:
            if rsa_public_key(key).verify(RSASignatureAlgorithm.PKCS1_5_SHA256, digest, token.signature):
                return
        except (KeyError, ValueError, RuntimeError):
            continue
    raise invalid("The web identity token signature could not be verified")


def check_times(token: WebToken, now: float) -> None:
    exp = token.claims.get("exp")
    if not isinstance(exp, int | float):
        raise invalid("The web identity token has no expiration")
    if now > exp + SKEW_SECONDS:
        raise api.ExpiredTokenException(
            f"Token expired: current date/time {int(now)} must be before the expiration date/time {int(exp)}"
        )
    nbf = token.claims.get("nbf")
    if isinstance(nbf, int | float) and now + SKEW_SECONDS < nbf:
        raise invalid("The web identity token is not valid yet")
