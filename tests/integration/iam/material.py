"""Key material for IAM credential tests: fresh SSH keys, self-signed certificates and their
private keys, TOTP codes on the server's (test) clock."""

from __future__ import annotations

import datetime
import json
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kumoi.services.iam.totp import seed_key, totp


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ssh_public_key(key: rsa.RSAPrivateKey | None = None) -> str:
    public = (key or rsa_key()).public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def certificate(
    key: rsa.RSAPrivateKey, *, days: int = 365, starts_in_days: int = -1, name: str = "kumoi"
) -> str:
    """A self-signed certificate for ``key``, valid from ``starts_in_days`` for ``days``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=starts_in_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def server_now(endpoint: str) -> float:
    with urllib.request.urlopen(f"{endpoint}/_kumoi/clock", timeout=5) as response:
        return float(json.loads(response.read())["now"])


def codes(endpoint: str, seed: bytes, offset_steps: int = 0) -> tuple[str, str]:
    """Two consecutive codes of the device whose Base32StringSeed is ``seed``, on the server's clock."""
    key = seed_key(seed.decode("ascii"))
    now = server_now(endpoint) + offset_steps * 30
    return totp(key, now), totp(key, now + 30)
