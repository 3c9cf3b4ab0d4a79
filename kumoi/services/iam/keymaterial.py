"""Public-key material users upload: SSH public keys and X.509 certificates.

Parsing uses ``cryptography``, imported on first use so a server that never sees a certificate
does not load it. The SSH key fingerprint is the one IAM shows: the MD5 of the key's wire-format
blob as colon-separated hex (OpenSSH's legacy fingerprint).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

#: IAM accepts RSA keys of at least 2048 bits (and at most 16384).
SSH_RSA_MIN_BITS = 2048
SSH_RSA_MAX_BITS = 16384


class UnrecognizedEncoding(ValueError):
    """Neither the OpenSSH one-line format nor PEM."""


class InvalidKey(ValueError):
    """Recognized but unusable (bad data, not RSA, too short)."""


@dataclass(frozen=True, slots=True)
class SshKey:
    openssh: str
    pem: str
    fingerprint: str


def md5_fingerprint(blob: bytes) -> str:
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_ssh_public_key(body: str) -> SshKey:
    """An uploaded SSH public key (``ssh-rsa AAAA... comment`` or a PEM public key)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    text = body.strip()
    key: PublicKeyTypes
    try:
        if text.startswith("ssh-"):
            key = serialization.load_ssh_public_key(text.encode("ascii"))
        elif text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            raise UnrecognizedEncoding(text[:20])
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        if isinstance(exc, UnrecognizedEncoding):
            raise
        raise InvalidKey(str(exc)) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidKey("only ssh-rsa keys are accepted")
    if not SSH_RSA_MIN_BITS <= key.key_size <= SSH_RSA_MAX_BITS:
        raise InvalidKey(f"key size {key.key_size}")
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    blob = base64.b64decode(openssh.split()[1])
    return SshKey(openssh.decode("ascii"), pem.decode("ascii"), md5_fingerprint(blob))


class MalformedCertificate(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Certificate:
    not_before: float
    not_after: float
    #: The DER encoding, to recognize the same certificate uploaded twice.
    der_sha256: str
    public_key_der: bytes


def parse_certificate(body: str) -> Certificate:
    """A PEM X.509 certificate; :class:`MalformedCertificate` if it is not one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(body.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate("certificate body") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    public = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Certificate(
        cert.not_valid_before_utc.timestamp(),
        cert.not_valid_after_utc.timestamp(),
        hashlib.sha256(der).hexdigest(),
        public,
    )


def parse_chain(body: str) -> None:
    """Every certificate of a PEM chain must parse."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(body.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate("certificate chain") from None
    if not certs:
        raise MalformedCertificate("certificate chain")


def private_key_public_der(body: str) -> bytes:
    """The public half of a PEM private key (to check it matches its certificate)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(body.strip().encode("ascii"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError, binascii.Error):
        raise MalformedCertificate("private key") from None
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
