"""A namespace-preserving XML tree for signature checking.

:mod:`kumoi.protocol.xml` strips namespaces, which is right for AWS request bodies but not for
XML signatures: canonicalization needs each element's prefix, its namespace declarations, its
comments and processing instructions. This parser keeps all of that. Like the protocol parser it
runs expat and refuses any document type declaration, so no entity is ever declared or expanded.
Namespaces are resolved here (expat runs without namespace processing) and the document must be
namespace-well-formed: every prefix declared, no prefix undeclared, no duplicate expanded
attribute names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

XML_NS = "http://www.w3.org/XML/1998/namespace"
XMLNS_NS = "http://www.w3.org/2000/xmlns/"
_BASE_SCOPE: dict[str, str] = {"xml": XML_NS}


class TreeError(ValueError):
    """The document is not well-formed, not namespace-well-formed, or uses a refused feature."""


@dataclass(frozen=True, slots=True)
class Text:
    data: str


@dataclass(frozen=True, slots=True)
class Comment:
    data: str


@dataclass(frozen=True, slots=True)
class Instruction:
    target: str
    data: str


@dataclass(frozen=True, slots=True)
class Attribute:
    qname: str
    prefix: str
    local: str
    uri: str
    value: str


@dataclass(eq=False, slots=True)
class Element:
    """An element: ``uri`` and ``local`` name it; ``prefix`` and ``declared`` are kept for C14N."""

    qname: str
    prefix: str
    local: str
    uri: str
    #: Namespace declarations made on this element (prefix, "" for the default namespace).
    declared: dict[str, str]
    #: Namespaces in scope here (inherited and declared; the default namespace under "").
    scope: dict[str, str]
    attributes: list[Attribute]
    parent: Element | None
    children: list[Element | Text | Comment | Instruction] = field(default_factory=list)

    def attribute(self, local: str, uri: str = "") -> str | None:
        for attr in self.attributes:
            if attr.local == local and attr.uri == uri:
                return attr.value
        return None

    def elements(self, local: str | None = None, uri: str | None = None) -> list[Element]:
        """The child elements, optionally only those with this local name and namespace."""
        return [
            child
            for child in self.children
            if isinstance(child, Element)
            and (local is None or child.local == local)
            and (uri is None or child.uri == uri)
        ]

    def child(self, local: str, uri: str) -> Element | None:
        found = self.elements(local, uri)
        return found[0] if found else None

    def text(self) -> str:
        """The element's own character data (comments and child elements are not text)."""
        return "".join(child.data for child in self.children if isinstance(child, Text))

    def iter(self) -> Iterator[Element]:
        """This element and every element below it, in document order."""
        stack: list[Element] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.elements()))

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


def _split(qname: str) -> tuple[str, str]:
    prefix, colon, local = qname.partition(":")
    if not colon:
        return "", qname
    if not prefix or not local or ":" in local:
        raise TreeError(f"bad qualified name {qname!r}")
    return prefix, local


def _declarations(raw: list[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    declared: dict[str, str] = {}
    plain: list[tuple[str, str]] = []
    for name, value in zip(raw[::2], raw[1::2], strict=True):
        if name == "xmlns":
            if value in (XML_NS, XMLNS_NS):
                raise TreeError("the default namespace cannot be a reserved namespace")
            declared[""] = value
        elif name.startswith("xmlns:"):
            prefix = name[6:]
            if not prefix or ":" in prefix or prefix == "xmlns" or not value:
                raise TreeError(f"bad namespace declaration {name!r}")
            if (prefix == "xml") != (value == XML_NS) or value == XMLNS_NS:
                raise TreeError(f"bad namespace declaration {name!r}")
            declared[prefix] = value
        else:
            plain.append((name, value))
    return declared, plain


class _Builder:
    def __init__(self) -> None:
        self.stack: list[Element] = []
        self.root: Element | None = None

    def start(self, name: str, raw: list[str]) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is None and self.root is not None:
            raise TreeError("more than one root element")
        declared, plain = _declarations(raw)
        inherited = parent.scope if parent is not None else _BASE_SCOPE
        scope = {**inherited, **declared} if declared else inherited
        prefix, local = _split(name)
        if prefix and prefix not in scope:
            raise TreeError(f"undeclared namespace prefix {prefix!r}")
        attributes: list[Attribute] = []
        seen: set[tuple[str, str]] = set()
        for qname, value in plain:
            attr_prefix, attr_local = _split(qname)
            if attr_prefix and attr_prefix not in scope:
                raise TreeError(f"undeclared namespace prefix {attr_prefix!r}")
            uri = scope[attr_prefix] if attr_prefix else ""
            if (uri, attr_local) in seen:
                raise TreeError(f"duplicate attribute {qname!r}")
            seen.add((uri, attr_local))
            attributes.append(Attribute(qname, attr_prefix, attr_local, uri, value))
        element = Element(name, prefix, local, scope.get(prefix, ""), declared, scope, attributes, parent)
        if parent is not None:
            parent.children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, _name: str) -> None:
        self.stack.pop()

    def text(self, data: str) -> None:
        if self.stack:
            self.stack[-1].children.append(Text(data))

    def comment(self, data: str) -> None:
        if self.stack:
            self.stack[-1].children.append(Comment(data))

    def instruction(self, target: str, data: str) -> None:
        if self.stack:
            self.stack[-1].children.append(Instruction(target, data))


def _refuse(*_args: object) -> None:
    raise TreeError("document type declarations and entities are not allowed")


def parse_tree(data: bytes) -> Element:
    """Parse ``data``; raises :class:`TreeError` for malformed or unsafe input."""
    builder = _Builder()
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.CommentHandler = builder.comment
    parser.ProcessingInstructionHandler = builder.instruction
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise TreeError(str(exc)) from None
    if builder.root is None:
        raise TreeError("no root element")
    return builder.root
