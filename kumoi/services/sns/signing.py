"""kumoi's SNS signing key and certificate, and the signatures of delivered messages.

AWS signs every HTTP/HTTPS (and enveloped SQS) message with a private key whose certificate it
serves at ``SigningCertURL``; receivers fetch the certificate and check the signature over the
canonical string (see :mod:`kumoi.services.sns.envelope`). kumoi does the same with its own RSA
key and self-signed certificate, created once in the data directory and kept across restarts
so that receivers may cache the certificate, as they do with AWS's.

The key is read or created on first use, not at start-up: creating a 2048-bit RSA key takes
50-300 ms, and importing ``cryptography.x509`` ~45 ms and ~13 MiB (with cryptography's native
module). The SNS wiring calls :meth:`Signer.prepare` in a worker thread at the first SNS request
(OpenSSL releases the GIL while it searches for primes), so a publish rarely waits for it.
"""

from __future__ import annotations

import base64
import datetime
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

KEY_FILE = "signing-key.pem"
CERT_FILE = "signing-cert.pem"
#: RSA key size of the signing key (AWS's certificates use 2048-bit keys).
KEY_BITS = 2048
#: How long the self-signed certificate is valid.
CERT_VALIDITY = datetime.timedelta(days=3650)


class Signer:
    """The signing key and certificate kept in one directory (read or created on first use)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._material: tuple[RSAPrivateKey, bytes] | None = None

    def prepare(self) -> None:
        """Read or create the key and certificate now; blocking, so call it from a thread."""
        self._loaded()

    @property
    def certificate_pem(self) -> bytes:
        return self._loaded()[1]

    def sign(self, canonical: str, version: str) -> str:
        """The base64 signature of ``canonical`` for ``SignatureVersion`` ``version``: 1 is
        SHA1withRSA, 2 is SHA256withRSA."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        digest: hashes.HashAlgorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self._loaded()[0].sign(canonical.encode("utf-8"), padding.PKCS1v15(), digest)
        return base64.b64encode(signature).decode("ascii")

    def _loaded(self) -> tuple[RSAPrivateKey, bytes]:
        material = self._material
        if material is None:
            with self._lock:
                material = self._material
                if material is None:
                    material = self._material = _load_or_create(self._directory)
        return material


def load_or_create(directory: Path) -> Signer:
    """The signer whose key and certificate are in ``directory`` (created there when absent, on
    first use)."""
    return Signer(directory)


def _load_or_create(directory: Path) -> tuple[RSAPrivateKey, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    if key_path.exists() and cert_path.exists():
        stored = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(stored, rsa.RSAPrivateKey):
            return stored, cert_path.read_bytes()
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.kumoi.local")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + CERT_VALIDITY)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert_pem)
    return key, cert_pem


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only, replacing ``path`` atomically."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
