"""SAML response rules of AssumeRoleWithSAML, on responses signed by the test identity provider."""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest

from kumoi.services.sts import api, saml
from tests.support.saml import ATTR, Idp, encode

EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PAIR = "arn:aws:iam::000000000000:role/r,arn:aws:iam::000000000000:saml-provider/p"


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp()


def verify(idp: Idp, xml: str, **sign: bool) -> saml.SamlAssertion:
    return saml.verify_response(encode(idp.sign(xml, **sign)), idp.metadata())


def test_reads_the_signed_assertion(idp: Idp) -> None:
    attributes = {ATTR + "SourceIdentity": ["src"], ATTR + "PrincipalTag:team": ["blue"]}
    found = verify(idp, idp.response([PAIR], attributes=attributes))
    assert (found.issuer, found.subject, found.subject_type) == (idp.entity_id, "emp-7", "persistent")
    assert found.recipient == "https://signin.aws.amazon.com/saml"
    assert found.roles == (("arn:aws:iam::000000000000:role/r", "arn:aws:iam::000000000000:saml-provider/p"),)
    assert found.first(saml.ROLE_SESSION_NAME) == "emp-7" and found.first(saml.SOURCE_IDENTITY) == "src"
    assert saml.session_tags(found) == ([{"Key": "team", "Value": "blue"}], [])


@pytest.mark.parametrize(
    ("name_format", "expected"),
    [
        ("urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "transient"),
        (
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        ),
    ],
)
def test_subject_type_drops_only_the_saml2_prefix(idp: Idp, name_format: str, expected: str) -> None:
    assert verify(idp, idp.response([PAIR], name_format=name_format)).subject_type == expected


def test_role_pairs_in_either_order() -> None:
    role, provider = "arn:aws:iam::1:role/r", "arn:aws:iam::1:saml-provider/p"
    assert saml._roles([f"{provider}, {role}", f"{role},{provider}", "junk"]) == ((role, provider),) * 2


def test_name_qualifier_and_condition_keys(idp: Idp) -> None:
    found = verify(idp, idp.response([PAIR], attributes={"urn:oid:2.5.4.3": ["Emp Seven"]}))
    expected = base64.b64encode(hashlib.sha1(f"{idp.entity_id}123456789012/MySAMLIdP".encode()).digest())
    assert saml.name_qualifier(idp.entity_id, "123456789012", "MySAMLIdP") == expected.decode()
    keys = saml.condition_keys(found, "123456789012", "MySAMLIdP")
    assert keys["saml:doc"] == ["123456789012/MySAMLIdP"] and keys["saml:aud"] == [found.recipient]
    assert keys["saml:cn"] == ["Emp Seven"] == keys["saml:commonname"]


def test_times_against_the_clock(idp: Idp) -> None:
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    found = verify(idp, idp.response([PAIR], now=start, lifetime=datetime.timedelta(minutes=5)))
    saml.check_times(found, start.timestamp())
    with pytest.raises(api.ExpiredTokenException):
        saml.check_times(found, start.timestamp() + 300)
    with pytest.raises(api.InvalidIdentityTokenException):
        saml.check_times(found, start.timestamp() - 60)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("status:Success", "status:Requester"),
        ('Recipient="https://signin.aws.amazon.com/saml"', 'Recipient="https://app.example.com/acs"'),
        (
            'Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"',
            'Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"',
        ),
        ("<saml:Audience>https://signin.aws.amazon.com/saml", "<saml:Audience>https://app.example.com"),
        ("saml:AudienceRestriction", "saml:Other"),
        ('NotOnOrAfter="', 'NotOnOrAfter="soon'),
    ],
)
def test_refused_responses(idp: Idp, old: str, new: str) -> None:
    xml = idp.response([PAIR])
    assert old in xml
    with pytest.raises(api.InvalidIdentityTokenException):
        verify(idp, xml.replace(old, new), response=True, assertion=False)


def test_encrypted_or_misplaced_assertion_is_refused(idp: Idp) -> None:
    xml = idp.response([PAIR])
    encrypted = xml.replace("<saml:Assertion ", "<saml:EncryptedAssertion ").replace(
        "</saml:Assertion>", "</saml:EncryptedAssertion>"
    )
    with pytest.raises(api.InvalidIdentityTokenException):
        verify(idp, encrypted, response=True, assertion=False)
    nested = xml.replace("<saml:Assertion ", "<samlp:Extensions><saml:Assertion ").replace(
        "</saml:Assertion>", "</saml:Assertion></samlp:Extensions>"
    )
    with pytest.raises(api.InvalidIdentityTokenException):
        verify(idp, nested, response=True, assertion=False)


def test_size_limit_and_metadata_without_certificate(idp: Idp) -> None:
    with pytest.raises(api.StsError) as caught:
        saml.verify_response("A" * (saml.ASSERTION_MAX + 1), idp.metadata())
    assert caught.value.code == "ValidationError"
    with pytest.raises(api.InvalidIdentityTokenException):
        saml.verify_response(encode(idp.sign(idp.response([PAIR]))), "<x/>")


def test_missing_role_session_name_attribute_is_read_as_empty(idp: Idp) -> None:
    xml = idp.response([PAIR]).replace(ATTR + "RoleSessionName", ATTR + "Other")
    assert verify(idp, xml).first(saml.ROLE_SESSION_NAME) == ""
