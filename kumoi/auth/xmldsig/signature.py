"""Verifying an enveloped XML signature (XML-DSig 1.1) over one element, against trusted keys.

Only the profile SAML 2.0 uses is accepted, and everything else is refused rather than guessed:

- the ``Signature`` is a direct child of the signed element and its ``SignedInfo`` holds exactly
  one ``Reference`` whose ``URI`` is ``#`` + that element's ``ID`` (the caller then reads data from
  that very element, which is what defeats signature wrapping);
- the reference's transforms are the enveloped-signature transform followed by exclusive C14N
  (with or without comments, optionally with an InclusiveNamespaces prefix list);
- canonicalization of ``SignedInfo`` is exclusive C14N; signatures are RSA PKCS#1 v1.5 or ECDSA
  with SHA-1/256/384/512; digests SHA-1/256/384/512;
- keys come from the caller (the identity provider's metadata); a ``KeyInfo`` in the signature is
  ignored, so an attacker cannot bring their own key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import Certificate

from kumoi.auth.xmldsig.c14n import canonicalize, prefix_list
from kumoi.auth.xmldsig.tree import Element

DSIG = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_CANONICALIZATIONS = {EXC_C14N: False, EXC_C14N_COMMENTS: True}
_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: Signature algorithm URI → (key type, hash name).
_SIGNATURES = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ec", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", "sha512"),
}


class SignatureError(ValueError):
    """The signature is malformed, uses something refused, or does not verify."""


@dataclass(frozen=True, slots=True)
class _Canonicalization:
    comments: bool
    prefixes: frozenset[str]


def _only(parent: Element, local: str) -> Element:
    found = parent.elements(local, DSIG)
    if len(found) != 1:
        raise SignatureError(f"expected exactly one {local} in {parent.local}")
    return found[0]


def _algorithm(element: Element) -> str:
    algorithm = element.attribute("Algorithm")
    if not algorithm:
        raise SignatureError(f"{element.local} has no Algorithm")
    return algorithm


def _canonicalization(method: Element) -> _Canonicalization:
    algorithm = _algorithm(method)
    if algorithm not in _CANONICALIZATIONS:
        raise SignatureError(f"unsupported canonicalization {algorithm}")
    prefixes: frozenset[str] = frozenset()
    for extra in method.elements():
        if extra.local != "InclusiveNamespaces" or extra.uri != EXC_C14N:
            raise SignatureError(f"unexpected {extra.local} in {method.local}")
        prefixes = prefix_list(extra.attribute("PrefixList") or "")
    return _Canonicalization(_CANONICALIZATIONS[algorithm], prefixes)


def _base64(element: Element) -> bytes:
    try:
        return base64.b64decode("".join(element.text().split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{element.local} is not base64") from None


def find_signature(element: Element) -> Element | None:
    """The element's own enveloped ``Signature`` (a direct child); more than one is refused."""
    found = element.elements("Signature", DSIG)
    if len(found) > 1:
        raise SignatureError(f"{element.local} has more than one Signature")
    return found[0] if found else None


def _check_reference(reference: Element, signed: Element, signature: Element) -> None:
    element_id = signed.attribute("ID")
    if not element_id or reference.attribute("URI") != f"#{element_id}":
        raise SignatureError("the signature does not reference the signed element")
    transforms = reference.elements("Transforms", DSIG)
    if len(transforms) != 1:
        raise SignatureError("the reference has no Transforms")
    steps = transforms[0].elements()
    if [step.local for step in steps] != ["Transform", "Transform"] or any(s.uri != DSIG for s in steps):
        raise SignatureError("the reference's transforms must be enveloped-signature then exclusive C14N")
    if _algorithm(steps[0]) != ENVELOPED or steps[0].elements():
        raise SignatureError("the reference's transforms must be enveloped-signature then exclusive C14N")
    transform = _canonicalization(steps[1])
    digest_name = _DIGESTS.get(_algorithm(_only(reference, "DigestMethod")))
    if digest_name is None:
        raise SignatureError("unsupported digest algorithm")
    # A same-document "#id" reference selects the element without its comments (XML-DSig 4.4.3.3).
    octets = canonicalize(signed, comments=False, inclusive_prefixes=transform.prefixes, exclude=signature)
    expected = _base64(_only(reference, "DigestValue"))
    if not hmac.compare_digest(hashlib.new(digest_name, octets).digest(), expected):
        raise SignatureError("the digest of the signed element does not match")


def _verify_with(key: object, kind: str, hash_name: str, value: bytes, data: bytes) -> bool:
    algorithm = _HASHES[hash_name]()
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), algorithm)
            return True
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            # XML-DSig carries ECDSA signatures as r || s, each the size of the curve's order.
            half = len(value) // 2
            if not value or len(value) % 2:
                return False
            der = encode_dss_signature(
                int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
            )
            key.verify(der, data, ec.ECDSA(algorithm))
            return True
    except InvalidSignature:
        return False
    return False


def verify_enveloped(signed: Element, certificates: Sequence[Certificate]) -> None:
    """Check ``signed``'s enveloped signature with one of ``certificates``; raise if it fails."""
    signature = find_signature(signed)
    if signature is None:
        raise SignatureError(f"{signed.local} is not signed")
    signed_info = _only(signature, "SignedInfo")
    parts = signed_info.elements()
    if [part.local for part in parts] != ["CanonicalizationMethod", "SignatureMethod", "Reference"] or any(
        part.uri != DSIG for part in parts
    ):
        raise SignatureError("SignedInfo must hold one CanonicalizationMethod, SignatureMethod and Reference")
    method = _canonicalization(parts[0])
    kind, hash_name = _SIGNATURES.get(_algorithm(parts[1]), ("", ""))
    if not kind:
        raise SignatureError("unsupported signature algorithm")
    _check_reference(parts[2], signed, signature)
    data = canonicalize(signed_info, comments=method.comments, inclusive_prefixes=method.prefixes)
    value = _base64(_only(signature, "SignatureValue"))
    if not any(_verify_with(cert.public_key(), kind, hash_name, value, data) for cert in certificates):
        raise SignatureError("the signature does not verify with the identity provider's certificate")
