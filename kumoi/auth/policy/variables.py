"""Policy variables: ``${aws:username}`` in resources and condition values.

A :class:`Template` is compiled once from the policy text. Literal pieces stay strings; a
variable names a request-context key and an optional default (``${aws:PrincipalTag/team, 'none'}``).
``${*}``, ``${?}`` and ``${$}`` stand for the literal characters. A variable whose key the request
does not carry (and that has no default) makes the template unresolvable: the resource or value
then matches nothing, as AWS documents. Variables exist only in version ``2012-10-17`` policies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kumoi.auth.policy.errors import PolicySyntaxError

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Template:
    """A string with policy variables; ``text`` is the original."""

    text: str
    pieces: tuple[str | Variable, ...]

    @property
    def is_literal(self) -> bool:
        return len(self.pieces) == 1 and isinstance(self.pieces[0], str)

    def resolve(self, context: Mapping[str, Sequence[str]]) -> str | None:
        if len(self.pieces) == 1 and isinstance(self.pieces[0], str):
            return self.pieces[0]
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            values = context.get(piece.key)
            if values is not None and len(values) == 1:
                out.append(values[0])
            elif piece.default is not None:
                out.append(piece.default)
            else:
                return None
        return "".join(out)


def compile_template(text: str, variables: bool) -> Template:
    if not variables or "${" not in text:
        return Template(text, (text,))
    pieces: list[str | Variable] = []
    position = 0
    literal: list[str] = []
    for match in _VARIABLE.finditer(text):
        literal.append(text[position : match.start()])
        inner = match.group(1)
        position = match.end()
        if inner in _LITERALS:
            literal.append(_LITERALS[inner])
            continue
        default_match = _DEFAULT.match(inner)
        if default_match is not None:
            key, default = default_match.group(1), default_match.group(2)
        else:
            key, default = inner.strip(), None
        if not key or " " in key:
            raise PolicySyntaxError(f"Invalid policy variable: ${{{inner}}}")
        if literal:
            pieces.append("".join(literal))
            literal = []
        pieces.append(Variable(key.lower(), default))
    literal.append(text[position:])
    if "".join(literal):
        pieces.append("".join(literal))
    return Template(text, tuple(pieces) or ("",))
