"""AssumeRoleWithSAML through boto3, with responses signed by a test identity provider.

The IdP (``tests/support/saml.py``) signs with lxml's exclusive C14N, so a response the server
accepts shows kumoi's canonicalization agrees with libxml2's. Every forged, tampered, wrapped,
expired or misdirected response must be refused with AWS's error.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lxml import etree

from tests.integration.iam.conftest import advance_clock, make_client, unique
from tests.support.saml import ATTR, SAML, Idp, Signing, encode
from tests.support.server import ServerProcess, running_server

ACCOUNT = "000000000000"


@dataclass
class Setup:
    idp: Idp
    provider_arn: str
    provider_name: str
    role_arn: str

    @property
    def pair(self) -> str:
        return f"{self.role_arn},{self.provider_arn}"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def federate(
    iam: Any, idp: Idp, conditions: dict[str, Any] | None = None, tags: bool = False, name: str = ""
) -> Setup:
    name = name or unique("sso")
    provider_arn = iam.create_saml_provider(SAMLMetadataDocument=idp.metadata(), Name=name)["SAMLProviderArn"]
    actions = ["sts:AssumeRoleWithSAML", *(["sts:TagSession"] if tags else [])]
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": actions,
        "Condition": conditions or {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    role = iam.create_role(RoleName=unique("saml"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    return Setup(idp, provider_arn, name, role["Arn"])


@pytest.fixture(scope="module")
def sts(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sts")


@pytest.fixture(scope="module")
def setup(iam: Any) -> Setup:
    return federate(iam, Idp())


def assume(sts: Any, setup: Setup, xml: str, **kwargs: Any) -> dict[str, Any]:
    answer: dict[str, Any] = sts.assume_role_with_saml(
        RoleArn=setup.role_arn, PrincipalArn=setup.provider_arn, SAMLAssertion=encode(xml), **kwargs
    )
    return answer


def refused(sts: Any, setup: Setup, xml: str) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        assume(sts, setup, xml)
    return error_of(caught)


def test_valid_response_gives_working_credentials(sts: Any, setup: Setup, server: ServerProcess) -> None:
    idp = setup.idp
    answer = assume(sts, setup, idp.sign(idp.response([setup.pair])))
    assert answer["Subject"] == "emp-7" and answer["SubjectType"] == "persistent"
    assert answer["Issuer"] == idp.entity_id
    assert answer["Audience"] == "https://signin.aws.amazon.com/saml"
    digest = hashlib.sha1(f"{idp.entity_id}{ACCOUNT}/{setup.provider_name}".encode()).digest()
    assert answer["NameQualifier"] == base64.b64encode(digest).decode()
    role_name = setup.role_arn.rsplit("/", 1)[-1]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/emp-7"
    credentials = answer["Credentials"]
    session = make_client(
        server.endpoint,
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    assert session.get_caller_identity()["Arn"] == answer["AssumedRoleUser"]["Arn"]


@pytest.mark.parametrize(
    ("signing", "where"),
    [
        (Signing(), "assertion"),
        (Signing(), "response"),
        (Signing(), "both"),
        (Signing(hash="sha1", digest="sha1"), "assertion"),
        (Signing(comments=True, prefixes=("xs", "xsi")), "both"),
    ],
)
def test_signature_variants_verify(sts: Any, setup: Setup, signing: Signing, where: str) -> None:
    idp = setup.idp
    xml = idp.sign(
        idp.response([setup.pair]),
        response=where in ("response", "both"),
        assertion=where in ("assertion", "both"),
        signing=signing,
    )
    assert assume(sts, setup, xml)["Subject"] == "emp-7"


def test_ecdsa_identity_provider(sts: Any, iam: Any) -> None:
    ecdsa = federate(iam, Idp(kind="ec"))
    xml = ecdsa.idp.sign(ecdsa.idp.response([ecdsa.pair]))
    assert assume(sts, ecdsa, xml)["Issuer"] == ecdsa.idp.entity_id


def test_role_pair_in_either_order_among_others(sts: Any, setup: Setup) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/other,{setup.provider_arn}"
    reversed_pair = f"{setup.provider_arn}, {setup.role_arn}"
    idp = setup.idp
    assert assume(sts, setup, idp.sign(idp.response([other, reversed_pair])))["Subject"] == "emp-7"


def test_tampered_attribute_is_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    signed = idp.sign(idp.response([setup.pair], session_name="emp-7"))
    forged = signed.replace(">emp-7</saml:AttributeValue>", ">admin</saml:AttributeValue>")
    assert forged != signed
    assert refused(sts, setup, forged) == ("InvalidIdentityToken", 400)


def test_wrong_certificate_unsigned_and_bad_signature_value(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    attacker = Idp()
    # Signed by another key, even with that key's certificate in KeyInfo: refused.
    assert refused(sts, setup, attacker.sign(idp.response([setup.pair]))) == ("InvalidIdentityToken", 400)
    assert refused(sts, setup, idp.response([setup.pair])) == ("InvalidIdentityToken", 400)
    signed = idp.sign(idp.response([setup.pair]))
    start = signed.index("<ds:SignatureValue>") + len("<ds:SignatureValue>")
    flipped = signed[:start] + ("A" if signed[start] != "A" else "B") + signed[start + 1 :]
    assert refused(sts, setup, flipped) == ("InvalidIdentityToken", 400)


def _tree(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode())


def evil_assertion(setup: Setup) -> etree._Element:
    """An unsigned assertion for "admin", as an attacker would write it."""
    xml = setup.idp.response([setup.pair], subject="admin", session_name="admin")
    found: etree._Element = _tree(xml).find(f"{{{SAML}}}Assertion")
    return found


def test_second_unsigned_assertion_is_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    signed = _tree(idp.sign(idp.response([setup.pair])))
    signed.insert(2, evil_assertion(setup))
    assert refused(sts, setup, etree.tostring(signed).decode()) == ("InvalidIdentityToken", 400)


def test_moved_signed_assertion_is_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    root = _tree(idp.sign(idp.response([setup.pair])))
    original = root.find(f"{{{SAML}}}Assertion")
    position = list(root).index(original)
    # The evil assertion takes the original's place and ID, and carries the signed one inside it.
    evil = evil_assertion(setup)
    evil.set("ID", original.get("ID"))
    root.remove(original)
    evil.append(original)
    root.insert(position, evil)
    assert refused(sts, setup, etree.tostring(root).decode()) == ("InvalidIdentityToken", 400)


def test_signature_copied_onto_forged_assertion_is_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    root = _tree(idp.sign(idp.response([setup.pair])))
    original = root.find(f"{{{SAML}}}Assertion")
    signature = original.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    evil = _tree(idp.response([setup.pair], subject="admin", session_name="admin")).find(
        f"{{{SAML}}}Assertion"
    )
    evil.insert(1, signature)  # references the original's ID, which is no longer in the document
    root.replace(original, evil)
    assert refused(sts, setup, etree.tostring(root).decode()) == ("InvalidIdentityToken", 400)


def test_signed_response_with_extra_assertion_hidden_in_signature_is_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    root = _tree(idp.sign(idp.response([setup.pair]), response=True, assertion=False))
    signature = root.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    hidden = _tree(idp.response([setup.pair], subject="admin")).find(f"{{{SAML}}}Assertion")
    holder = etree.SubElement(signature, "{http://www.w3.org/2000/09/xmldsig#}Object")
    holder.append(hidden)
    assert refused(sts, setup, etree.tostring(root).decode()) == ("InvalidIdentityToken", 400)


def test_comment_in_name_id_does_not_split_the_signed_value(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    xml = idp.sign(idp.response([setup.pair], subject="emp<!-- a comment -->-7"))
    assert assume(sts, setup, xml)["Subject"] == "emp-7"


def test_doctype_and_garbage_are_refused(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    signed = idp.sign(idp.response([setup.pair]))
    with_dtd = '<!DOCTYPE r [<!ENTITY e "emp-7">]>' + signed
    assert refused(sts, setup, with_dtd) == ("InvalidIdentityToken", 400)
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_saml(
            RoleArn=setup.role_arn, PrincipalArn=setup.provider_arn, SAMLAssertion="bm90IHhtbA=="
        )
    assert error_of(caught) == ("InvalidIdentityToken", 400)


def test_expired_and_not_yet_valid(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    expired = idp.sign(idp.response([setup.pair], now=past))
    assert refused(sts, setup, expired) == ("ExpiredTokenException", 400)
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    early = idp.sign(idp.response([setup.pair], now=future))
    assert refused(sts, setup, early) == ("InvalidIdentityToken", 400)


def test_audience_recipient_and_issuer_are_checked(sts: Any, setup: Setup) -> None:
    idp = setup.idp
    wrong_audience = idp.sign(idp.response([setup.pair], audience="https://app.example.com"))
    assert refused(sts, setup, wrong_audience) == ("InvalidIdentityToken", 400)
    urn = idp.sign(idp.response([setup.pair], audience="urn:amazon:webservices"))
    assert assume(sts, setup, urn)["Subject"] == "emp-7"
    wrong_recipient = idp.sign(idp.response([setup.pair], recipient="https://evil.example.com/saml"))
    assert refused(sts, setup, wrong_recipient) == ("InvalidIdentityToken", 400)
    wrong_issuer = idp.sign(idp.response([setup.pair], issuer="https://other-idp.example.com"))
    assert refused(sts, setup, wrong_issuer) == ("InvalidIdentityToken", 400)


def test_role_not_in_role_attribute_is_denied(sts: Any, setup: Setup, iam: Any) -> None:
    idp = setup.idp
    other_pair = f"arn:aws:iam::{ACCOUNT}:role/someone-else,{setup.provider_arn}"
    assert refused(sts, setup, idp.sign(idp.response([other_pair]))) == ("AccessDenied", 403)
    nameless = idp.response([setup.pair]).replace(ATTR + "RoleSessionName", ATTR + "Nickname")
    assert refused(sts, setup, idp.sign(nameless)) == ("InvalidIdentityToken", 400)


def test_unknown_provider_and_trust_policy(sts: Any, setup: Setup, iam: Any) -> None:
    idp = setup.idp
    missing = f"arn:aws:iam::{ACCOUNT}:saml-provider/{unique('none')}"
    xml = idp.sign(idp.response([f"{setup.role_arn},{missing}"]))
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_saml(RoleArn=setup.role_arn, PrincipalArn=missing, SAMLAssertion=encode(xml))
    assert error_of(caught) == ("InvalidIdentityToken", 400)
    strict = federate(iam, idp, {"StringEquals": {"saml:sub": "someone-else"}})
    denied = idp.sign(idp.response([strict.pair]))
    assert refused(sts, strict, denied) == ("AccessDenied", 403)


def test_condition_keys_reach_the_trust_policy(sts: Any, iam: Any) -> None:
    idp = Idp(entity_id="https://keys.example.com/idp")
    conditions = {
        "StringEquals": {
            "saml:iss": "https://keys.example.com/idp",
            "saml:sub_type": "persistent",
            "saml:edupersonaffiliation": "staff",
        }
    }
    keyed = federate(iam, idp, conditions)
    affiliation = {"urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["staff"]}
    assert assume(sts, keyed, idp.sign(idp.response([keyed.pair], attributes=affiliation)))
    student = {"urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["student"]}
    assert refused(sts, keyed, idp.sign(idp.response([keyed.pair], attributes=student))) == (
        "AccessDenied",
        403,
    )
    name = unique("nq")
    qualifier = base64.b64encode(hashlib.sha1(f"{idp.entity_id}{ACCOUNT}/{name}".encode()).digest()).decode()
    doc = f"{ACCOUNT}/{name}"
    by_qualifier = federate(
        iam, idp, {"StringEquals": {"saml:namequalifier": qualifier, "saml:doc": doc}}, name=name
    )
    assert assume(sts, by_qualifier, idp.sign(idp.response([by_qualifier.pair])))


def test_source_identity_and_session_tags(sts: Any, iam: Any) -> None:
    idp = Idp()
    tagged = federate(iam, idp, tags=True)
    extra = {ATTR + "SourceIdentity": ["emp-7-src"], ATTR + "PrincipalTag:team": ["blue"]}
    answer = assume(sts, tagged, idp.sign(idp.response([tagged.pair], attributes=extra)))
    assert answer["SourceIdentity"] == "emp-7-src"
    untagged = federate(iam, idp)
    assert refused(sts, untagged, idp.sign(idp.response([untagged.pair], attributes=extra))) == (
        "AccessDenied",
        403,
    )


def test_saml_provider_metadata_is_validated(iam: Any) -> None:
    idp = Idp()
    for bad in (
        "<EntityDescriptor>" + "x" * 1200 + "</EntityDescriptor>",
        idp.metadata().replace("md:KeyDescriptor", "md:Other"),
        idp.metadata().replace(idp.entity_id, idp.entity_id + '"><!DOCTYPE'),
        "<!DOCTYPE x>" + idp.metadata(),
    ):
        with pytest.raises(ClientError) as caught:
            iam.create_saml_provider(SAMLMetadataDocument=bad, Name=unique("bad"))
        assert error_of(caught) == ("InvalidInput", 400)
    arn = iam.create_saml_provider(
        SAMLMetadataDocument=idp.metadata(valid_until="2030-01-02T03:04:05Z"), Name=unique("ok")
    )["SAMLProviderArn"]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["ValidUntil"].year == 2030 and got["SAMLProviderUUID"]
    with pytest.raises(ClientError) as caught:
        iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument="<x/>" + " " * 1000)
    assert error_of(caught) == ("InvalidInput", 400)


def test_update_saml_provider_rotates_the_certificate(sts: Any, iam: Any) -> None:
    old = Idp()
    rotated = federate(iam, old)
    new = Idp()
    new.entity_id = old.entity_id
    xml = new.sign(new.response([rotated.pair]))
    assert refused(sts, rotated, xml) == ("InvalidIdentityToken", 400)
    # During a rotation the metadata lists both certificates; either key verifies.
    iam.update_saml_provider(
        SAMLProviderArn=rotated.provider_arn, SAMLMetadataDocument=old.metadata(old.cert, new.cert)
    )
    assert assume(sts, rotated, xml)["Subject"] == "emp-7"
    assert assume(sts, rotated, old.sign(old.response([rotated.pair])))["Subject"] == "emp-7"


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("saml-clock") / "data", args=("--test-clock",)) as server:
        yield server


def test_assertion_expires_on_the_server_clock(clocked: ServerProcess) -> None:
    iam = make_client(clocked.endpoint, "iam")
    sts = make_client(clocked.endpoint, "sts")
    setup = federate(iam, Idp())
    xml = setup.idp.sign(setup.idp.response([setup.pair], lifetime=datetime.timedelta(minutes=5)))
    assert assume(sts, setup, xml)["Subject"] == "emp-7"
    advance_clock(clocked.endpoint, 301)
    assert refused(sts, setup, xml) == ("ExpiredTokenException", 400)
