"""The SNS signing key: made on first use, once, and kept across restarts."""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kumoi.services.sns.signing import CERT_FILE, KEY_FILE, load_or_create


def test_nothing_is_made_until_first_use(tmp_path: Path) -> None:
    signer = load_or_create(tmp_path / "sns")
    assert not (tmp_path / "sns").exists()
    signer.prepare()
    assert stat.S_IMODE((tmp_path / "sns" / KEY_FILE).stat().st_mode) == 0o600
    assert (tmp_path / "sns" / CERT_FILE).read_bytes() == signer.certificate_pem


def test_racing_first_uses_make_one_key(tmp_path: Path) -> None:
    signer = load_or_create(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        certificates = set(pool.map(lambda _: signer.certificate_pem, range(8)))
    assert certificates == {(tmp_path / CERT_FILE).read_bytes()}


def test_a_restart_reads_the_same_key(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    signature = first.sign("canonical", "2")
    again = load_or_create(tmp_path)
    assert again.certificate_pem == first.certificate_pem
    assert again.sign("canonical", "2") == signature  # PKCS#1 v1.5 signatures are deterministic


def test_signature_versions_pick_the_digest(tmp_path: Path) -> None:
    signer = load_or_create(tmp_path)
    public_key = x509.load_pem_x509_certificate(signer.certificate_pem).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    for version, digest in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        signature = base64.b64decode(signer.sign("message", version))
        public_key.verify(signature, b"message", padding.PKCS1v15(), digest)
