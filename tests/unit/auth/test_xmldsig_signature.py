"""Enveloped XML signatures and IdP metadata: what verifies, and each shape that is refused."""

from __future__ import annotations

import base64
import datetime

import pytest
from lxml import etree

from kumoi.auth.xmldsig.metadata import MetadataError, parse_metadata
from kumoi.auth.xmldsig.signature import SignatureError, verify_enveloped
from kumoi.auth.xmldsig.tree import Element, parse_tree
from tests.support.saml import SAML, Idp, Signing, sign_element

DS = "{http://www.w3.org/2000/09/xmldsig#}"
ROLE = "arn:aws:iam::000000000000:role/r,arn:aws:iam::000000000000:saml-provider/p"


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp()


def _assertion(xml: str) -> Element:
    found = parse_tree(xml.encode()).child("Assertion", SAML)
    assert found is not None
    return found


def _signed(idp: Idp, signing: Signing | None = None) -> etree._Element:
    root = etree.fromstring(idp.response([ROLE]).encode())
    sign_element(root.find(f"{{{SAML}}}Assertion"), idp.key, idp.cert, signing or Signing(kind=idp.kind))
    return root


def _text(root: etree._Element) -> str:
    return etree.tostring(root).decode()


@pytest.mark.parametrize(
    "signing",
    [
        Signing(),
        Signing(hash="sha1", digest="sha1"),
        Signing(digest="sha1"),
        Signing(comments=True),
        Signing(prefixes=("xs", "xsi")),
    ],
)
def test_rsa_signatures_verify(idp: Idp, signing: Signing) -> None:
    verify_enveloped(_assertion(_text(_signed(idp, signing))), [idp.cert])


def test_ecdsa_signature_verifies_and_other_keys_do_not() -> None:
    ecdsa = Idp(kind="ec")
    element = _assertion(_text(_signed(ecdsa)))
    verify_enveloped(element, [Idp().cert, ecdsa.cert])  # any trusted certificate may match
    with pytest.raises(SignatureError):
        verify_enveloped(element, [Idp(kind="ec").cert])


def _mutate(idp: Idp, path: str, attribute: str | None, value: str) -> str:
    root = _signed(idp)
    node = root.find(f"{{{SAML}}}Assertion/{DS}Signature/{path}")
    assert node is not None
    if attribute is None:
        node.text = value
    else:
        node.set(attribute, value)
    return _text(root)


@pytest.mark.parametrize(
    ("path", "attribute", "value"),
    [
        (f"{DS}SignedInfo/{DS}SignatureMethod", "Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
        (
            f"{DS}SignedInfo/{DS}CanonicalizationMethod",
            "Algorithm",
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        ),
        (f"{DS}SignedInfo/{DS}Reference", "URI", ""),
        (f"{DS}SignedInfo/{DS}Reference", "URI", "#other"),
        (
            f"{DS}SignedInfo/{DS}Reference/{DS}DigestMethod",
            "Algorithm",
            "http://www.w3.org/2001/04/xmldsig-more#md5",
        ),
        (
            f"{DS}SignedInfo/{DS}Reference/{DS}Transforms/{DS}Transform",
            "Algorithm",
            "http://www.w3.org/TR/1999/REC-xpath-19991116",
        ),
        (f"{DS}SignedInfo/{DS}Reference/{DS}DigestValue", None, base64.b64encode(b"x" * 32).decode()),
        (f"{DS}SignatureValue", None, "not base64!"),
        (f"{DS}SignatureValue", None, base64.b64encode(b"\0" * 256).decode()),
    ],
)
def test_refused_signature_shapes(idp: Idp, path: str, attribute: str | None, value: str) -> None:
    with pytest.raises(SignatureError):
        verify_enveloped(_assertion(_mutate(idp, path, attribute, value)), [idp.cert])


def test_two_references_or_two_signatures_are_refused(idp: Idp) -> None:
    root = _signed(idp)
    assertion = root.find(f"{{{SAML}}}Assertion")
    signature = assertion.find(f"{DS}Signature")
    reference = signature.find(f"{DS}SignedInfo/{DS}Reference")
    signature.find(f"{DS}SignedInfo").append(etree.fromstring(etree.tostring(reference)))
    with pytest.raises(SignatureError):
        verify_enveloped(_assertion(_text(root)), [idp.cert])
    root = _signed(idp)
    assertion = root.find(f"{{{SAML}}}Assertion")
    assertion.append(etree.fromstring(etree.tostring(assertion.find(f"{DS}Signature"))))
    with pytest.raises(SignatureError):
        verify_enveloped(_assertion(_text(root)), [idp.cert])


def test_unsigned_element_is_refused(idp: Idp) -> None:
    with pytest.raises(SignatureError):
        verify_enveloped(_assertion(idp.response([ROLE])), [idp.cert])


def test_metadata_certificates_and_validity(idp: Idp) -> None:
    other = Idp()
    metadata = parse_metadata(idp.metadata(idp.cert, other.cert, valid_until="2031-05-06T07:08:09.123Z"))
    assert metadata.entity_id == idp.entity_id
    assert list(metadata.certificates) == [idp.cert, other.cert]
    expected = datetime.datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.UTC).timestamp()
    assert metadata.valid_until == pytest.approx(expected)
    encryption_only = idp.metadata().replace('use="signing"', 'use="encryption"')
    with pytest.raises(MetadataError):
        parse_metadata(encryption_only)
    unqualified = parse_metadata(idp.metadata().replace(' use="signing"', ""))
    assert unqualified.certificates == (idp.cert,)
    wrapped = (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        + idp.metadata().split("?>", 1)[1]
        + "</md:EntitiesDescriptor>"
    )
    assert parse_metadata(wrapped).entity_id == idp.entity_id


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.replace("md:IDPSSODescriptor", "md:SPSSODescriptor"),
        lambda m: m.replace("<ds:X509Certificate>", "<ds:X509Certificate>AAAA"),
        lambda m: m.replace('entityID="https://idp.example.com/saml"', ""),
        lambda m: m.replace('validUntil="2030-01-01T00:00:00Z"', 'validUntil="soon"'),
        lambda m: m.replace("urn:oasis:names:tc:SAML:2.0:metadata", "urn:other"),
        lambda m: "<!DOCTYPE x>" + m.split("?>", 1)[1],
        lambda m: m[:-30],
    ],
)
def test_bad_metadata_is_refused(idp: Idp, change: object) -> None:
    document = idp.metadata(valid_until="2030-01-01T00:00:00Z")
    assert callable(change)
    with pytest.raises(MetadataError):
        parse_metadata(change(document))
