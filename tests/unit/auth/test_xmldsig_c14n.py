"""Exclusive C14N and the namespace-preserving parser.

The property test builds random namespaced documents and checks that kumoi's canonical form of
every element equals libxml2's (through lxml), with and without comments and with inclusive
prefixes; a few hand-worked cases pin down what lxml cannot check (``#default``) and what the
parser must refuse.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from kumoi.auth.xmldsig.c14n import canonicalize, prefix_list
from kumoi.auth.xmldsig.tree import TreeError, parse_tree

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PREFIXES = ("a", "b", "c")
URIS = ("urn:x:one", "urn:x:two", "http://example.com/three")
TEXT = st.text(alphabet="ab &<>\"'\t\n\r\u00e9\U0001f600", max_size=6)


def _escape(text: str, attribute: bool) -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        out = out.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return out


@st.composite
def _element(draw: st.DrawFn, depth: int, scope: dict[str, str]) -> str:
    declared = draw(st.dictionaries(st.sampled_from(("", *PREFIXES)), st.sampled_from(URIS), max_size=2))
    if draw(st.booleans()) and scope.get(""):
        declared[""] = ""  # undeclare the default namespace
    inner = {**scope, **declared}
    prefix = draw(st.sampled_from(("", *PREFIXES)))
    if prefix and prefix not in inner:
        declared[prefix] = inner[prefix] = draw(st.sampled_from(URIS))
    attributes: list[str] = []
    for index, attr_prefix in enumerate(draw(st.lists(st.sampled_from(("", "xml", *PREFIXES)), max_size=3))):
        if attr_prefix and attr_prefix != "xml" and attr_prefix not in inner:
            declared[attr_prefix] = inner[attr_prefix] = draw(st.sampled_from(URIS))
        name = f"{attr_prefix}:at{index}" if attr_prefix else f"at{index}"
        attributes.append(f' {name}="{_escape(draw(TEXT), True)}"')
    decls = "".join(f' xmlns{":" + p if p else ""}="{uri}"' for p, uri in declared.items())
    tag = f"{prefix}:e" if prefix else "e"
    children: list[str] = []
    for kind in draw(st.lists(st.sampled_from(("text", "comment", "pi", "element")), max_size=4)):
        if kind == "text":
            children.append(_escape(draw(TEXT), False))
        elif kind == "comment":
            children.append(f"<!--{draw(st.sampled_from(('', ' c ', 'x<&>')))}-->")
        elif kind == "pi":
            children.append(f"<?pi {draw(st.sampled_from(('', 'data', 'a  b ')))}?>")
        elif depth < 3:
            children.append(draw(_element(depth + 1, inner)))
    return f"<{tag}{decls}{''.join(attributes)}>{''.join(children)}</{tag}>"


@SETTINGS
@given(document=_element(0, {}), comments=st.booleans(), inclusive=st.sets(st.sampled_from(PREFIXES)))
def test_exclusive_c14n_matches_libxml2(document: str, comments: bool, inclusive: set[str]) -> None:
    data = document.encode()
    theirs = etree.fromstring(data)
    ours = parse_tree(data)
    pairs = list(zip(theirs.iter(etree.Element), ours.iter(), strict=True))
    for their_element, our_element in pairs:
        expected = etree.tostring(
            their_element,
            method="c14n",
            exclusive=True,
            with_comments=comments,
            inclusive_ns_prefixes=sorted(inclusive) or None,
        )
        ours_c14n = canonicalize(our_element, comments=comments, inclusive_prefixes=frozenset(inclusive))
        assert ours_c14n == expected


def test_excluded_element_and_default_prefix_token() -> None:
    root = parse_tree(
        b'<r xmlns="urn:d" xmlns:s="urn:s"><s:x a="1">t<Sig xmlns="urn:sig"><v/></Sig>\n</s:x></r>'
    )
    x = root.elements()[0]
    signature = x.elements()[0]
    assert canonicalize(x, exclude=signature) == b'<s:x xmlns:s="urn:s" a="1">t\n</s:x>'
    # "#default" in a PrefixList renders the in-scope default namespace on the apex.
    assert prefix_list("#default s") == frozenset({"", "s"})
    assert canonicalize(x, exclude=signature, inclusive_prefixes=frozenset({""})) == (
        b'<s:x xmlns="urn:d" xmlns:s="urn:s" a="1">t\n</s:x>'
    )


def test_text_is_what_was_signed_without_comments() -> None:
    root = parse_tree(b"<n>user@example.com<!-- x -->.evil.com</n>")
    assert root.text() == "user@example.com.evil.com"
    assert canonicalize(root) == b"<n>user@example.com.evil.com</n>"


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>',
        b"<!DOCTYPE r><r/>",
        b'<!DOCTYPE r SYSTEM "http://example.com/x.dtd"><r/>',
        b"<r>&undefined;</r>",
        b"<p:r/>",
        b'<r p:a="1"/>',
        b'<r xmlns:a="urn:x" xmlns:b="urn:x" a:z="1" b:z="2"/>',
        b'<r xmlns:a=""/>',
        b'<r xmlns:xml="urn:not-xml"/>',
        b'<r xmlns:xmlns="urn:x"/>',
        b'<r xmlns:a="http://www.w3.org/XML/1998/namespace"/>',
        b"<a:b:c xmlns:a='urn:a'/>",
        b"<r/><r/>",
        b"",
        b"<r>",
    ],
)
def test_parser_refuses(document: bytes) -> None:
    with pytest.raises(TreeError):
        parse_tree(document)


def test_parser_keeps_namespaces_and_lookups() -> None:
    root = parse_tree(b'<a:r xmlns:a="urn:a" ID="1"><a:c xmlns="urn:d" x="2"><d/></a:c></a:r>')
    assert (root.uri, root.local, root.prefix, root.attribute("ID")) == ("urn:a", "r", "a", "1")
    child = root.child("c", "urn:a")
    assert child is not None and child.attribute("x") == "2"
    grandchild = child.elements()[0]
    assert grandchild.uri == "urn:d" and list(grandchild.ancestors()) == [child, root]
    assert [node.local for node in root.iter()] == ["r", "c", "d"]
