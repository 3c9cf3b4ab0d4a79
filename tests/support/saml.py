"""A test SAML identity provider: metadata, and SAML responses signed as real IdPs sign them.

The signer canonicalizes with lxml's (libxml2's) exclusive C14N, an implementation independent of
kumoi's own, so a response that verifies on the server shows the two agree on the bytes.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import uuid
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree

DSIG = "http://www.w3.org/2000/09/xmldsig#"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
AWS_SIGNIN = "https://signin.aws.amazon.com/saml"
ATTR = "https://aws.amazon.com/SAML/Attributes/"

SIGNATURE_METHODS = {
    ("rsa", "sha256"): "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    ("rsa", "sha1"): "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    ("ec", "sha256"): "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
}
DIGEST_METHODS = {
    "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
}
HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def instant(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def self_signed(key: PrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def cert_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@dataclass
class Signing:
    """How to sign: key kind and hash, digest, comments in SignedInfo's C14N, PrefixList."""

    kind: str = "rsa"
    hash: str = "sha256"
    digest: str = "sha256"
    comments: bool = False
    prefixes: tuple[str, ...] = ()


@dataclass
class Idp:
    entity_id: str = "https://idp.example.com/saml"
    kind: str = "rsa"
    key: PrivateKey = field(init=False)
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if self.kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.cert = self_signed(self.key, "kumoi test idp")

    def metadata(self, *certs: x509.Certificate, valid_until: str | None = None) -> str:
        keys = "".join(
            f"""
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64(cert)}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>"""
            for cert in certs or (self.cert,)
        )
        until = f' validUntil="{valid_until}"' if valid_until else ""
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.entity_id}"{until}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    def response(
        self,
        roles: list[str],
        *,
        session_name: str = "emp-7",
        subject: str = "emp-7",
        name_format: str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        lifetime: datetime.timedelta = datetime.timedelta(minutes=5),
        now: datetime.datetime | None = None,
        audience: str = AWS_SIGNIN,
        recipient: str = AWS_SIGNIN,
        issuer: str | None = None,
        attributes: dict[str, list[str]] | None = None,
    ) -> str:
        """An unsigned response (XML text) with one assertion."""
        start = now or datetime.datetime.now(datetime.UTC)
        end = instant(start + lifetime)
        values = {ATTR + "Role": roles, ATTR + "RoleSessionName": [session_name], **(attributes or {})}
        statements = "".join(
            f'<saml:Attribute Name="{name}">'
            + "".join(f'<saml:AttributeValue xsi:type="xs:string">{v}</saml:AttributeValue>' for v in vals)
            + "</saml:Attribute>"
            for name, vals in values.items()
        )
        who = issuer or self.entity_id
        return f"""<samlp:Response xmlns:samlp="{SAMLP}" ID="_r{uuid.uuid4().hex}" Version="2.0"
    IssueInstant="{instant(start)}" Destination="{recipient}">
  <saml:Issuer xmlns:saml="{SAML}">{who}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion xmlns:saml="{SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_a{uuid.uuid4().hex}" Version="2.0"
      IssueInstant="{instant(start)}">
    <saml:Issuer>{who}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="{name_format}">{subject}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{end}" Recipient="{recipient}"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{instant(start - datetime.timedelta(seconds=5))}" NotOnOrAfter="{end}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{instant(start)}">
      <saml:AuthnContext>
        <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>
      </saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>{statements}</saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""

    def sign(
        self,
        xml: str,
        *,
        response: bool = False,
        assertion: bool = True,
        signing: Signing | None = None,
        key: PrivateKey | None = None,
    ) -> str:
        """Sign the assertion and/or the response (assertion first, as an IdP does)."""
        root = etree.fromstring(xml.encode())
        how = signing or Signing(kind=self.kind)
        if assertion:
            sign_element(root.find(f"{{{SAML}}}Assertion"), key or self.key, self.cert, how)
        if response:
            sign_element(root, key or self.key, self.cert, how)
        return etree.tostring(root).decode()


def encode(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def c14n(element: etree._Element, comments: bool, prefixes: tuple[str, ...]) -> bytes:
    return etree.tostring(
        element,
        method="c14n",
        exclusive=True,
        with_comments=comments,
        inclusive_ns_prefixes=list(prefixes) or None,
    )


def sign_element(element: etree._Element, key: PrivateKey, cert: x509.Certificate, how: Signing) -> None:
    """An enveloped signature over ``element``, placed after its Issuer (as SAML requires)."""
    ds = f"{{{DSIG}}}"
    comments = "WithComments" if how.comments else ""
    inclusive = f'<ec:InclusiveNamespaces xmlns:ec="{EXC}" PrefixList="{" ".join(how.prefixes)}"/>'
    template = f"""<ds:Signature xmlns:ds="{DSIG}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{EXC}{comments}"/>
<ds:SignatureMethod Algorithm="{SIGNATURE_METHODS[(how.kind, how.hash)]}"/>
<ds:Reference URI="#{element.get("ID")}"><ds:Transforms>
<ds:Transform Algorithm="{DSIG}enveloped-signature"/>
<ds:Transform Algorithm="{EXC}">{inclusive if how.prefixes else ""}</ds:Transform>
</ds:Transforms><ds:DigestMethod Algorithm="{DIGEST_METHODS[how.digest]}"/><ds:DigestValue/>
</ds:Reference></ds:SignedInfo><!-- signed by the test idp --><ds:SignatureValue/>
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64(cert)}</ds:X509Certificate></ds:X509Data>
</ds:KeyInfo></ds:Signature>"""
    digest = hashlib.new(how.digest, c14n(element, False, how.prefixes)).digest()
    signature = etree.fromstring(template)
    issuer = element.find(f"{{{SAML}}}Issuer")
    element.insert(0 if issuer is None else list(element).index(issuer) + 1, signature)
    signature.find(f"{ds}SignedInfo/{ds}Reference/{ds}DigestValue").text = base64.b64encode(digest).decode()
    signed_info = signature.find(f"{ds}SignedInfo")
    # A comment inside SignedInfo is only covered by the WithComments canonicalization.
    signed_info.insert(0, etree.Comment(" signed info "))
    data = c14n(signed_info, how.comments, ())
    algorithm = HASHES[how.hash]()
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PKCS1v15(), algorithm)
    else:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(algorithm)))
        size = (key.curve.key_size + 7) // 8
        value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    signature.find(f"{ds}SignatureValue").text = base64.b64encode(value).decode()
