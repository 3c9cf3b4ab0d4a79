"""SAML 2.0 responses for AssumeRoleWithSAML, verified against the IAM SAML provider's metadata.

A response is accepted only if its XML signature verifies with a signing certificate from the
metadata document of the IAM SAML provider named by ``PrincipalArn``: the ``Response`` or its
``Assertion`` (or both) carries an enveloped signature whose single reference points at that
element's ``ID`` (see :mod:`kumoi.auth.xmldsig.signature`). Everything kumoi then reads (issuer,
subject, conditions, audience, attributes) is read from the one assertion that is, or is inside,
the signed element; so a second assertion, a moved signed element, duplicate ``ID`` values, a
document type declaration or an encrypted assertion make the response invalid rather than
confusing which part was signed.

The checks follow AWS's: exactly one bearer ``SubjectConfirmationData`` with a ``Recipient`` of an
AWS sign-in endpoint and a ``NotOnOrAfter``; the ``Conditions`` time window against the server
clock; an ``AudienceRestriction`` naming AWS (``https://signin.aws.amazon.com/saml`` or
``urn:amazon:webservices``...); a ``Role`` attribute listing the requested role and provider pair;
a ``RoleSessionName`` attribute.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.x509 import Certificate

from kumoi.auth.xmldsig.metadata import IdpMetadata, MetadataError, parse_instant, parse_metadata
from kumoi.auth.xmldsig.signature import SignatureError, find_signature, verify_enveloped
from kumoi.auth.xmldsig.tree import Element, TreeError, parse_tree
from kumoi.services.sts import api

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
ENCRYPTED_ASSERTION = "EncryptedAssertion"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
UNSPECIFIED_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ATTRIBUTES = "https://aws.amazon.com/SAML/Attributes/"
ROLE = ATTRIBUTES + "Role"
ROLE_SESSION_NAME = ATTRIBUTES + "RoleSessionName"
SOURCE_IDENTITY = ATTRIBUTES + "SourceIdentity"
PRINCIPAL_TAG = ATTRIBUTES + "PrincipalTag:"
TRANSITIVE_TAG_KEYS = ATTRIBUTES + "TransitiveTagKeys"
#: Largest assertion accepted (AWS: SAMLAssertion is at most 100,000 characters).
ASSERTION_MAX = 100000
#: Audiences AWS accepts in an AudienceRestriction.
_AUDIENCE = re.compile(
    r"^(?:https://(?:[a-z0-9-]+\.)?signin\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)"
    r"(?:/static)?/saml(?:/acs/[\w-]+)?|urn:amazon:webservices(?::[a-z0-9-]+)?)$"
)
#: Recipients AWS accepts: its sign-in endpoints' SAML URLs.
_RECIPIENT = re.compile(
    r"^https://(?:[a-z0-9-]+\.)?signin\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)"
    r"(?:/static)?/saml(?:/acs/[\w-]+)?/?$"
)
#: SAML attributes named by OID that AWS exposes as ``saml:`` condition keys.
OID_KEYS = {
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": "edupersonaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.2": "edupersonnickname",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.3": "edupersonorgdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.4": "edupersonorgunitdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.5": "edupersonprimaryaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": "edupersonprincipalname",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.7": "edupersonentitlement",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.8": "edupersonprimaryorgunitdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.9": "edupersonscopedaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "edupersontargetedid",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.11": "edupersonassurance",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.2": "eduorghomepageuri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.3": "eduorgidentityauthnpolicyuri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.4": "eduorglegalname",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.5": "eduorgsuperioruri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.6": "eduorgwhitepagesuri",
    "urn:oid:2.5.4.3": "cn",
    "urn:oid:2.5.4.4": "surname",
    "urn:oid:2.5.4.42": "givenname",
    "urn:oid:2.5.4.45": "x500uniqueidentifier",
    "urn:oid:0.9.2342.19200300.100.1.1": "uid",
    "urn:oid:0.9.2342.19200300.100.1.3": "mail",
}


def invalid(reason: str) -> api.InvalidIdentityTokenException:
    return api.InvalidIdentityTokenException(f"Invalid SAML response: {reason}")


@dataclass(frozen=True, slots=True)
class SamlAssertion:
    """What kumoi uses from a verified assertion."""

    issuer: str
    subject: str
    subject_type: str
    #: The bearer SubjectConfirmationData's Recipient (AWS returns it as ``Audience``).
    recipient: str
    audiences: tuple[str, ...]
    not_before: float | None
    not_on_or_after: float
    session_not_on_or_after: float | None
    #: (role ARN, provider ARN) pairs of the Role attribute.
    roles: tuple[tuple[str, str], ...]
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str:
        values = self.attributes.get(name) or [""]
        return values[0]


def _decode(encoded: str) -> Element:
    if len(encoded) > ASSERTION_MAX:
        raise api.StsError(
            f"1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: "
            f"Member must have length less than or equal to {ASSERTION_MAX}",
            code="ValidationError",
            status=400,
        )
    try:
        return parse_tree(base64.b64decode("".join(encoded.split()), validate=True))
    except (binascii.Error, ValueError, TreeError):
        raise invalid("it could not be parsed") from None


def _check_structure(root: Element) -> Element:
    """The response's one assertion, after refusing anything that could hide a second one."""
    if root.uri != PROTOCOL or root.local != "Response":
        raise invalid("the document is not a SAML 2.0 Response")
    ids: set[str] = set()
    assertions: list[Element] = []
    for node in root.iter():
        node_id = node.attribute("ID")
        if node_id is not None:
            if node_id in ids:
                raise invalid("duplicate ID attribute values")
            ids.add(node_id)
        if node.uri == ASSERTION and node.local in ("Assertion", ENCRYPTED_ASSERTION):
            assertions.append(node)
    status = root.child("Status", PROTOCOL)
    code = status.child("StatusCode", PROTOCOL) if status is not None else None
    if code is None or code.attribute("Value") != SUCCESS:
        raise invalid("the response status is not Success")
    if any(node.local == ENCRYPTED_ASSERTION for node in assertions):
        raise invalid("encrypted assertions are not supported")
    if len(assertions) != 1 or assertions[0].parent is not root:
        raise invalid("the response must contain exactly one assertion")
    return assertions[0]


@functools.lru_cache(maxsize=64)
def _metadata(document: str) -> IdpMetadata:
    return parse_metadata(document)


def _verify(root: Element, assertion: Element, certificates: tuple[Certificate, ...]) -> None:
    try:
        signed = [node for node in (root, assertion) if find_signature(node) is not None]
        if not signed:
            raise api.InvalidIdentityTokenException("Response signature invalid: the response is not signed")
        for node in signed:
            verify_enveloped(node, certificates)
    except SignatureError as exc:
        raise api.InvalidIdentityTokenException(f"Response signature invalid: {exc}") from None


def _instant(node: Element, name: str) -> float | None:
    text = node.attribute(name)
    if text is None:
        return None
    moment = parse_instant(text)
    if moment is None:
        raise invalid(f"{node.local}/@{name} is not a date")
    return moment


def _confirmation(subject: Element) -> Element:
    confirmations = [
        c for c in subject.elements("SubjectConfirmation", ASSERTION) if c.attribute("Method") == BEARER
    ]
    data = [d for c in confirmations for d in c.elements("SubjectConfirmationData", ASSERTION)]
    if len(data) != 1:
        raise invalid("the assertion must have exactly one bearer SubjectConfirmationData")
    return data[0]


def _attributes(assertion: Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in assertion.elements("AttributeStatement", ASSERTION):
        for attribute in statement.elements("Attribute", ASSERTION):
            name = attribute.attribute("Name") or ""
            values = [value.text().strip() for value in attribute.elements("AttributeValue", ASSERTION)]
            found.setdefault(name, []).extend(values)
    return found


def _roles(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for value in values:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            continue
        first, second = parts
        if ":saml-provider/" in first and ":role/" in second:
            first, second = second, first
        pairs.append((first, second))
    return tuple(pairs)


def _read(assertion: Element) -> SamlAssertion:
    issuer = assertion.child("Issuer", ASSERTION)
    subject = assertion.child("Subject", ASSERTION)
    name_id = subject.child("NameID", ASSERTION) if subject is not None else None
    if issuer is None or subject is None or name_id is None:
        raise invalid("the assertion has no Issuer or Subject NameID")
    confirmation = _confirmation(subject)
    recipient = confirmation.attribute("Recipient") or ""
    if not _RECIPIENT.match(recipient):
        raise invalid("the SubjectConfirmationData Recipient is not an AWS sign-in endpoint")
    expiry = _instant(confirmation, "NotOnOrAfter")
    if expiry is None:
        raise invalid("the SubjectConfirmationData has no NotOnOrAfter")
    not_before = _instant(confirmation, "NotBefore")
    audiences: list[str] = []
    conditions = assertion.elements("Conditions", ASSERTION)
    if len(conditions) != 1:
        raise invalid("the assertion must have one Conditions element")
    bound = _instant(conditions[0], "NotOnOrAfter")
    if bound is not None:
        expiry = min(expiry, bound)
    start = _instant(conditions[0], "NotBefore")
    if start is not None:
        not_before = start if not_before is None else max(not_before, start)
    restrictions = conditions[0].elements("AudienceRestriction", ASSERTION)
    for restriction in restrictions:
        allowed = [a.text().strip() for a in restriction.elements("Audience", ASSERTION)]
        if not any(_AUDIENCE.match(audience) for audience in allowed):
            raise invalid("the assertion's audience is not AWS (https://signin.aws.amazon.com/saml)")
        audiences.extend(allowed)
    if not restrictions:
        raise invalid("the assertion has no AudienceRestriction")
    authn = assertion.child("AuthnStatement", ASSERTION)
    fmt = name_id.attribute("Format") or UNSPECIFIED_FORMAT
    attributes = _attributes(assertion)
    return SamlAssertion(
        issuer=issuer.text().strip(),
        subject=name_id.text().strip(),
        subject_type=fmt.removeprefix(NAMEID_PREFIX),
        recipient=recipient,
        audiences=tuple(audiences),
        not_before=not_before,
        not_on_or_after=expiry,
        session_not_on_or_after=_instant(authn, "SessionNotOnOrAfter") if authn is not None else None,
        roles=_roles(attributes.get(ROLE, [])),
        attributes=attributes,
    )


def verify_response(encoded: str, metadata_document: str) -> SamlAssertion:
    """Decode, verify against the provider's metadata, and read the assertion (CPU-bound)."""
    try:
        metadata = _metadata(metadata_document)
    except MetadataError:
        raise invalid("the SAML provider's metadata has no usable signing certificate") from None
    root = _decode(encoded)
    assertion = _check_structure(root)
    _verify(root, assertion, metadata.certificates)
    found = _read(assertion)
    if metadata.entity_id and found.issuer != metadata.entity_id:
        raise api.InvalidIdentityTokenException("Issuer not present in specified provider")
    return found


def check_times(assertion: SamlAssertion, now: float) -> None:
    if now >= assertion.not_on_or_after:
        raise api.ExpiredTokenException("Token expired: the SAML assertion is no longer valid")
    if assertion.not_before is not None and now < assertion.not_before:
        raise invalid("the assertion is not yet valid (NotBefore is in the future)")


def name_qualifier(issuer: str, account: str, provider_name: str) -> str:
    """AWS's NameQualifier: BASE64(SHA1(issuer + account id + "/" + provider name))."""
    digest = hashlib.sha1(f"{issuer}{account}/{provider_name}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def condition_keys(assertion: SamlAssertion, account: str, provider_name: str) -> dict[str, list[str]]:
    """The ``saml:`` keys a trust policy can test (lower-cased, as the policy engine compares)."""
    keys = {
        "saml:aud": [assertion.recipient],
        "saml:iss": [assertion.issuer],
        "saml:sub": [assertion.subject],
        "saml:sub_type": [assertion.subject_type],
        "saml:namequalifier": [name_qualifier(assertion.issuer, account, provider_name)],
        "saml:doc": [f"{account}/{provider_name}"],
    }
    for oid, key in OID_KEYS.items():
        if assertion.attributes.get(oid):
            keys[f"saml:{key}"] = assertion.attributes[oid]
    if "saml:cn" in keys:
        keys["saml:commonname"] = keys["saml:cn"]
    return keys


def session_tags(assertion: SamlAssertion) -> tuple[list[dict[str, str]], list[str]]:
    """Session tags from ``PrincipalTag:<key>`` attributes, and the transitive tag keys."""
    tags = [
        {"Key": name.removeprefix(PRINCIPAL_TAG), "Value": values[0] if values else ""}
        for name, values in assertion.attributes.items()
        if name.startswith(PRINCIPAL_TAG)
    ]
    return tags, list(assertion.attributes.get(TRANSITIVE_TAG_KEYS, []))
