"""Exclusive XML Canonicalization 1.0 (https://www.w3.org/TR/xml-exc-c14n/) of one subtree.

The node-set is an element and everything below it, less an optional excluded element (the
``Signature`` an enveloped-signature transform removes) and, unless ``comments`` is set, less
comments. For such a node-set the rules come down to:

- an element renders the namespace declarations it *visibly utilizes* (its own prefix, its
  attributes' prefixes; the default namespace when it has no prefix) plus those whose prefix is in
  the InclusiveNamespaces ``PrefixList``, each only if the nearest output ancestor did not already
  render the same prefix with the same value; ``xmlns=""`` only undoes a non-empty default that an
  output ancestor rendered; the ``xml`` prefix is never declared;
- declarations are sorted by prefix (default first), attributes by namespace URI then local name;
- text, attribute values, comments and processing instructions are written with C14N's escapes,
  empty elements as start and end tag pairs.
"""

from __future__ import annotations

from kumoi.auth.xmldsig.tree import Comment, Element, Instruction, Text

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})
#: The PrefixList token for the default namespace.
DEFAULT_TOKEN = "#default"


def _namespaces(node: Element, inclusive: frozenset[str], rendered: dict[str, str]) -> list[tuple[str, str]]:
    wanted = {node.prefix}
    wanted.update(attr.prefix for attr in node.attributes if attr.prefix)
    wanted.update(prefix for prefix in inclusive if prefix == "" or prefix in node.scope)
    out: list[tuple[str, str]] = []
    for prefix in wanted:
        if prefix == "xml":
            continue
        value = node.scope.get(prefix, "")
        if rendered.get(prefix, "") != value:
            out.append((prefix, value))
    out.sort()
    return out


def canonicalize(
    apex: Element,
    *,
    comments: bool = False,
    inclusive_prefixes: frozenset[str] = frozenset(),
    exclude: Element | None = None,
) -> bytes:
    """The exclusive canonical form of ``apex``'s subtree (``inclusive_prefixes``: "" is default)."""
    parts: list[str] = []
    # (node, namespaces rendered by its output ancestors); a plain string is an end tag to write.
    stack: list[tuple[Element | Text | Comment | Instruction | str, dict[str, str]]] = [(apex, {})]
    while stack:
        node, rendered = stack.pop()
        if isinstance(node, str):
            parts.append(f"</{node}>")
        elif isinstance(node, Element):
            if node is exclude:
                continue
            declarations = _namespaces(node, inclusive_prefixes, rendered)
            parts.append(f"<{node.qname}")
            for prefix, value in declarations:
                name = f"xmlns:{prefix}" if prefix else "xmlns"
                parts.append(f' {name}="{value.translate(_ATTR)}"')
            for attr in sorted(node.attributes, key=lambda a: (a.uri, a.local)):
                parts.append(f' {attr.qname}="{attr.value.translate(_ATTR)}"')
            parts.append(">")
            inner = {**rendered, **dict(declarations)} if declarations else rendered
            stack.append((node.qname, inner))
            stack.extend((child, inner) for child in reversed(node.children))
        elif isinstance(node, Text):
            parts.append(node.data.translate(_TEXT))
        elif isinstance(node, Comment):
            if comments:
                parts.append(f"<!--{node.data}-->")
        elif node.data:
            parts.append(f"<?{node.target} {node.data}?>")
        else:
            parts.append(f"<?{node.target}?>")
    return "".join(parts).encode("utf-8")


def prefix_list(text: str) -> frozenset[str]:
    """An InclusiveNamespaces ``PrefixList`` (``#default`` names the default namespace as "")."""
    return frozenset("" if token == DEFAULT_TOKEN else token for token in text.split())
