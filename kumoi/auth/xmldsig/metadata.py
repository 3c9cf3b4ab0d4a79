"""SAML 2.0 identity provider metadata: the signing certificates an IAM SAML provider trusts.

IAM keeps the metadata document as given; AssumeRoleWithSAML trusts the X.509 certificates of
the ``IDPSSODescriptor``'s ``KeyDescriptor`` elements whose ``use`` is ``signing`` or absent.
A document that is not metadata of an identity provider with such a certificate is refused.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from kumoi.auth.xmldsig.signature import DSIG
from kumoi.auth.xmldsig.tree import Element, TreeError, parse_tree

METADATA = "urn:oasis:names:tc:SAML:2.0:metadata"


class MetadataError(ValueError):
    """The document is not usable SAML identity provider metadata."""


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    certificates: tuple[x509.Certificate, ...]
    #: The document's ``validUntil`` as a POSIX time, if it has one.
    valid_until: float | None


def parse_instant(text: str) -> float | None:
    """An ``xs:dateTime`` as SAML writes it (UTC, ``Z`` suffix, optional fraction), or None."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _entity(root: Element) -> Element:
    if root.uri == METADATA and root.local == "EntityDescriptor":
        return root
    if root.uri == METADATA and root.local == "EntitiesDescriptor":
        entities = [e for e in root.iter() if e.uri == METADATA and e.local == "EntityDescriptor"]
        idps = [e for e in entities if e.child("IDPSSODescriptor", METADATA) is not None]
        if len(idps) == 1:
            return idps[0]
    raise MetadataError("the document is not the metadata of one SAML identity provider")


def _certificates(descriptor: Element) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for key in descriptor.elements("KeyDescriptor", METADATA):
        if key.attribute("use") not in (None, "signing"):
            continue
        for info in key.elements("KeyInfo", DSIG):
            for data in info.elements("X509Data", DSIG):
                for cert in data.elements("X509Certificate", DSIG):
                    try:
                        der = base64.b64decode("".join(cert.text().split()), validate=True)
                        found.append(x509.load_der_x509_certificate(der))
                    except (binascii.Error, ValueError):
                        raise MetadataError("a signing certificate in the metadata is not valid") from None
    return found


def parse_metadata(document: str) -> IdpMetadata:
    try:
        root = parse_tree(document.encode("utf-8"))
    except TreeError as exc:
        raise MetadataError(f"the metadata is not well-formed XML: {exc}") from None
    entity = _entity(root)
    if not entity.attribute("entityID"):
        raise MetadataError("the EntityDescriptor has no entityID")
    descriptor = entity.child("IDPSSODescriptor", METADATA)
    if descriptor is None:
        raise MetadataError("the metadata has no IDPSSODescriptor")
    certificates = _certificates(descriptor)
    if not certificates:
        raise MetadataError("the metadata has no signing certificate")
    valid_until = None
    for node in (entity, root):
        stamp = node.attribute("validUntil")
        if stamp is not None:
            valid_until = parse_instant(stamp)
            if valid_until is None:
                raise MetadataError("the metadata's validUntil is not a date")
            break
    return IdpMetadata(entity.attribute("entityID") or "", tuple(certificates), valid_until)
