"""SAML 2.0 responses for AssumeRoleWithSAML.

kumoi accepts a SAML response from an identity provider registered in the role's account (IAM
CreateSAMLProvider): it reads the assertion's issuer, subject, audience, expiry and the
``https://aws.amazon.com/SAML/Attributes/RoleSessionName`` attribute, refuses an expired
assertion, and lets the role's trust policy decide. It does **not** verify the XML signature
against the provider's metadata certificate (that needs an XML-DSig implementation kumoi does not
carry): use it with identity providers you run yourself.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from kumoi.protocol.xml import Element, XmlError, parse
from kumoi.services.sts import api

ROLE_SESSION_NAME = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
#: Largest assertion accepted (AWS: SAMLAssertion is at most 100,000 characters).
ASSERTION_MAX = 100000


@dataclass(frozen=True, slots=True)
class SamlAssertion:
    issuer: str
    subject: str
    subject_type: str
    audience: str
    not_on_or_after: float | None
    session_name: str


def _find(root: Element, *path: str) -> Element | None:
    node: Element | None = root
    for tag in path:
        node = node.find(tag) if node is not None else None
    return node


def _time(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_assertion(encoded: str) -> SamlAssertion:
    if len(encoded) > ASSERTION_MAX:
        raise api.MalformedPolicyDocumentException("SAML assertion is too long")
    try:
        root = parse(base64.b64decode(encoded, validate=False))
    except (binascii.Error, ValueError, XmlError):
        raise api.InvalidIdentityTokenException("Invalid SAML response: it could not be parsed") from None
    assertion = root.find("Assertion") if root.tag == "Response" else root
    if assertion is None or assertion.tag != "Assertion":
        raise api.InvalidIdentityTokenException("Invalid SAML response: it has no assertion")
    issuer = _find(assertion, "Issuer") or _find(root, "Issuer")
    name_id = _find(assertion, "Subject", "NameID")
    audience = _find(assertion, "Conditions", "AudienceRestriction", "Audience")
    conditions = assertion.find("Conditions")
    expiry = _time(conditions.attrib.get("NotOnOrAfter", "")) if conditions is not None else None
    session_name = ""
    statement = assertion.find("AttributeStatement")
    for attribute in statement.findall("Attribute") if statement is not None else []:
        if attribute.attrib.get("Name") == ROLE_SESSION_NAME:
            value = attribute.find("AttributeValue")
            session_name = value.text.strip() if value is not None else ""
    if not session_name:
        raise api.InvalidIdentityTokenException(
            f"Invalid SAML response: it has no {ROLE_SESSION_NAME} attribute"
        )
    return SamlAssertion(
        issuer=issuer.text.strip() if issuer is not None else "",
        subject=name_id.text.strip() if name_id is not None else "",
        subject_type=name_id.attrib.get("Format", "").rsplit(":", 1)[-1] if name_id is not None else "",
        audience=audience.text.strip() if audience is not None else "",
        not_on_or_after=expiry,
        session_name=session_name,
    )
