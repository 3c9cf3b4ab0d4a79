"""XML bodies of rest-xml operations: readers and writers compiled from botocore shapes.

Each shape becomes one closure, built once and memoized by shape name and serialization traits
(``locationName``, ``flattened``, ``xmlNamespace``, ``timestampFormat`` change the wire form), so
recursive shapes compile to closures that refer to each other. Members bound to the URI, query or
headers (``location`` set) never appear in a body and are left out.

Wire conventions (the same that botocore's RestXMLSerializer/Parser use):

* a structure member is an element named by its ``locationName`` or member name;
* a list is a wrapper element whose items are named by the list member's ``locationName`` (default
  ``member``); a *flattened* list repeats the item element in the parent, named by the list
  member's ``locationName`` or else the member's name (S3's ``<Contents>``);
* a map is a wrapper of ``<entry><key/><value/></entry>`` (names from the key and value shapes),
  flattened maps repeat ``<Name><key/><value/></Name>`` in the parent;
* ``xmlAttribute`` members are attributes of the structure's element (``xsi:type``);
* timestamps are ISO 8601 unless the shape says otherwise; blobs are base64.

Readers also accept the member's own name where botocore's naming differs from Smithy's (a
flattened list's items named after the member; a shape-level ``locationName`` on a member), so
requests from any SDK generation decode. Readers raise :class:`ValueError` for text that does not
fit the shape; the codec reports it as ``MalformedXML``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kumoi.protocol.rest_values import scalar_formatter, scalar_parser
from kumoi.protocol.spec import Shape
from kumoi.protocol.xml import Element, escape_attr, escape_text

Reader = Callable[[Element], Any]
#: Writes one element: (output fragments, element name, value).
Writer = Callable[[list[str], str, Any], None]

_SINGLE, _FLAT_LIST, _FLAT_MAP = 0, 1, 2
#: Output members bound outside the body; other locations (``uri``, ``querystring``) only bind
#: inputs, so a shape shared by input and output writes those members into the output body.
_OUTSIDE_BODY = frozenset({"header", "headers", "statusCode"})


def _key(shape: Shape) -> tuple[str, str]:
    return shape.name, repr(sorted(shape.serialization.items()))


def namespace_attr(shape: Shape) -> str:
    """The ``xmlns`` declaration a shape's ``xmlNamespace`` trait asks for (or ``""``)."""
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attr(namespace)}"'
    prefix = namespace.get("prefix")
    name = f"xmlns:{prefix}" if prefix else "xmlns"
    return f' {name}="{escape_attr(namespace["uri"])}"'


def element_name(shape: Shape, member_name: str) -> str:
    """The element name of a structure member."""
    name: str = shape.serialization.get("name") or member_name
    return name


def _flat_item_name(shape: Shape, member_name: str) -> str:
    item_name: str | None = shape.member.serialization.get("name")
    return item_name or element_name(shape, member_name)


class XmlReaders:
    """Compiles (and memoizes) readers that turn an element into the shape's value."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Reader] = {}

    def reader(self, shape: Shape) -> Reader:
        key = _key(shape)
        found = self._cache.get(key)
        if found is not None:
            return found
        type_name = shape.type_name
        reader: Reader
        if type_name == "structure":
            reader = self._structure(shape, key)
        elif type_name == "list":
            reader = self._list(shape)
        elif type_name == "map":
            reader = self._map(shape)
        else:
            reader = _scalar_reader(shape)
        self._cache[key] = reader
        return reader

    def _structure(self, shape: Shape, key: tuple[str, str]) -> Reader:
        children: dict[str, tuple[str, int, Reader]] = {}
        attributes: list[tuple[str, str, Callable[[str], Any]]] = []

        def read(element: Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            if attributes:
                attrib = element.attrib
                for attr_name, member, parse in attributes:
                    text = attrib.get(attr_name)
                    if text is not None:
                        out[member] = parse(text)
            for child in element.children:
                entry = children.get(child.tag)
                if entry is None:
                    continue
                member, kind, member_reader = entry
                if kind == _SINGLE:
                    out[member] = member_reader(child)
                elif kind == _FLAT_LIST:
                    out.setdefault(member, []).append(member_reader(child))
                else:
                    map_key, map_value = member_reader(child)
                    out.setdefault(member, {})[map_key] = map_value
            return out

        self._cache[key] = read  # before the members: recursive shapes find it
        for member, member_shape in shape.members.items():
            serialization = member_shape.serialization
            if "location" in serialization:
                continue
            if serialization.get("xmlAttribute"):
                local = element_name(member_shape, member).rsplit(":", 1)[-1]
                attributes.append((local, member, scalar_parser(member_shape.type_name)))
                continue
            if member_shape.type_name == "list" and serialization.get("flattened"):
                entry = (member, _FLAT_LIST, self.reader(member_shape.member))
                names = [_flat_item_name(member_shape, member), element_name(member_shape, member), member]
            elif member_shape.type_name == "map" and serialization.get("flattened"):
                entry = (member, _FLAT_MAP, self._entry(member_shape))
                names = [element_name(member_shape, member), member]
            else:
                entry = (member, _SINGLE, self.reader(member_shape))
                names = [element_name(member_shape, member), member]
            for name in names:
                children.setdefault(name, entry)
        return read

    def _list(self, shape: Shape) -> Reader:
        item = self.reader(shape.member)

        def read(element: Element) -> list[Any]:
            return [item(child) for child in element.children]

        return read

    def _entry(self, shape: Shape) -> Callable[[Element], tuple[Any, Any]]:
        key_name = shape.key.serialization.get("name") or "key"
        value_name = shape.value.serialization.get("name") or "value"
        key_reader = self.reader(shape.key)
        value_reader = self.reader(shape.value)

        def read(entry: Element) -> tuple[Any, Any]:
            key_element = entry.find(key_name)
            value_element = entry.find(value_name)
            if key_element is None or value_element is None:
                raise ValueError("map entry without key or value")
            return key_reader(key_element), value_reader(value_element)

        return read

    def _map(self, shape: Shape) -> Reader:
        entry = self._entry(shape)

        def read(element: Element) -> dict[Any, Any]:
            return dict(entry(child) for child in element.children)

        return read


def _scalar_reader(shape: Shape) -> Reader:
    parse = scalar_parser(shape.type_name)
    if parse is str:
        return _text
    if shape.type_name == "blob":
        return lambda element: parse(element.text) if element.text.strip() else b""

    def read(element: Element) -> Any:
        return parse(element.text)

    return read


def _text(element: Element) -> str:
    return element.text


#: A writer of one structure member: (output fragments, member value).
MemberWriter = Callable[[list[str], Any], None]
#: Replaces the compiled writer of a (structure shape name, member name) with a faster one; it
#: receives the compiled writer, to fall back on for values it does not handle.
MemberOverride = Callable[[MemberWriter], MemberWriter]


class XmlWriters:
    """Compiles (and memoizes) writers that render a value as an element of a given name.

    ``overrides`` name hand-written writers for hot members (S3's listing entries), keyed by
    structure shape name and member name.
    """

    def __init__(self, overrides: dict[tuple[str, str], MemberOverride] | None = None) -> None:
        self._cache: dict[tuple[str, str], Writer] = {}
        self._builders: dict[tuple[str, str], Callable[[str], Writer]] = {}
        self._overrides = overrides or {}

    def writer(self, shape: Shape) -> Writer:
        key = _key(shape)
        found = self._cache.get(key)
        if found is not None:
            return found
        type_name = shape.type_name
        writer: Writer
        if type_name == "structure":
            writer = self._structure(shape, key)
        elif type_name == "list":
            writer = self._list(shape)
        elif type_name == "map":
            writer = self._map(shape)
        else:
            writer = _scalar_writer(shape)
        self._cache[key] = writer
        return writer

    def _structure(self, shape: Shape, key: tuple[str, str]) -> Writer:
        """A structure's writer: one loop over the value's members (in the value's order) that
        writes a scalar member itself, from its tags and formatter compiled here, and calls a
        writer only for nested values; a list-style page of structures pays no function call
        per scalar member."""
        members: dict[str, _MemberPlan] = {}
        attributes: dict[str, tuple[str, Callable[[Any], str]]] = {}

        def build(namespace: str) -> Writer:
            def write(parts: list[str], name: str, value: dict[str, Any]) -> None:
                append = parts.append
                if attributes:
                    rendered = "".join(
                        f' {attributes[m][0]}="{escape_attr(attributes[m][1](v))}"'
                        for m, v in value.items()
                        if m in attributes and v is not None
                    )
                    append(f"<{name}{namespace}{rendered}>")
                else:
                    append(f"<{name}{namespace}>")
                for member, member_value in value.items():
                    plan = members.get(member)
                    if plan is None or member_value is None:
                        continue
                    kind, start, end, action = plan
                    if kind == _TEXT:
                        # escape_text's own test, inline: most strings need no escape.
                        if (
                            "&" in member_value
                            or "<" in member_value
                            or ">" in member_value
                            or "\r" in member_value
                        ):
                            member_value = escape_text(member_value)
                        append(f"{start}{member_value}{end}")
                    elif kind == _FORMATTED:
                        append(f"{start}{action(member_value)}{end}")
                    else:
                        action(parts, member_value)
                append(f"</{name}>")

            return write

        write = build(namespace_attr(shape))
        self._cache[key] = write
        self._builders[key] = build
        for member, member_shape in shape.members.items():
            serialization = member_shape.serialization
            if serialization.get("location") in _OUTSIDE_BODY:
                continue
            if serialization.get("xmlAttribute"):
                fmt = scalar_formatter(
                    member_shape.type_name, serialization.get("timestampFormat", "iso8601")
                )
                attributes[member] = (element_name(member_shape, member), fmt)
                continue
            override = self._overrides.get((shape.name, member))
            if override is None and member_shape.type_name not in _NESTED:
                members[member] = _scalar_plan(member_shape, element_name(member_shape, member))
            else:
                compiled = self.member_writer(member_shape, member)
                members[member] = (_CALL, "", "", compiled if override is None else override(compiled))
        return write

    def root_writer(self, shape: Shape, namespace: str) -> Writer:
        """A structure writer whose element carries ``namespace`` (an ``xmlns`` declaration or ``""``)
        instead of the shape's own: the document root, where a service may impose its namespace."""
        self.writer(shape)
        return self._builders[_key(shape)](namespace or namespace_attr(shape))

    def member_writer(self, shape: Shape, member: str) -> MemberWriter:
        """A writer of one structure member (one element, or the items of a flattened collection)."""
        name = element_name(shape, member)
        flattened = shape.serialization.get("flattened")
        if flattened and shape.type_name == "list":
            item_name = _flat_item_name(shape, member)
            item_writer = self.writer(shape.member)

            def write_flat_list(parts: list[str], value: list[Any]) -> None:
                for item in value:
                    item_writer(parts, item_name, item)

            return write_flat_list
        if flattened and shape.type_name == "map":
            entry = self._entry_writer(shape)

            def write_flat_map(parts: list[str], value: dict[Any, Any]) -> None:
                for map_key, map_value in value.items():
                    parts.append(f"<{name}>")
                    entry(parts, map_key, map_value)
                    parts.append(f"</{name}>")

            return write_flat_map
        writer = self.writer(shape)

        def write_member(parts: list[str], value: Any) -> None:
            writer(parts, name, value)

        return write_member

    def _list(self, shape: Shape) -> Writer:
        item_name = shape.member.serialization.get("name") or "member"
        item_writer = self.writer(shape.member)
        namespace = namespace_attr(shape)

        def write(parts: list[str], name: str, value: list[Any]) -> None:
            parts.append(f"<{name}{namespace}>")
            for item in value:
                item_writer(parts, item_name, item)
            parts.append(f"</{name}>")

        return write

    def _entry_writer(self, shape: Shape) -> Callable[[list[str], Any, Any], None]:
        key_name = shape.key.serialization.get("name") or "key"
        value_name = shape.value.serialization.get("name") or "value"
        key_writer = self.writer(shape.key)
        value_writer = self.writer(shape.value)

        def write(parts: list[str], map_key: Any, map_value: Any) -> None:
            key_writer(parts, key_name, map_key)
            value_writer(parts, value_name, map_value)

        return write

    def _map(self, shape: Shape) -> Writer:
        entry = self._entry_writer(shape)
        namespace = namespace_attr(shape)

        def write(parts: list[str], name: str, value: dict[Any, Any]) -> None:
            parts.append(f"<{name}{namespace}>")
            for map_key, map_value in value.items():
                parts.append("<entry>")
                entry(parts, map_key, map_value)
                parts.append("</entry>")
            parts.append(f"</{name}>")

        return write


#: How a structure writes one member: the member's kind, its start and end tags, and its
#: formatter (``_FORMATTED``) or writer (``_CALL``).
_MemberPlan = tuple[int, str, str, Any]
#: A string written as escaped text; a value whose formatted text never needs escaping
#: (numbers, booleans, timestamps, base64); a nested value (or hand-written writer) called.
_TEXT, _FORMATTED, _CALL = range(3)
_NESTED = frozenset({"structure", "union", "list", "map"})


def _scalar_plan(shape: Shape, name: str) -> _MemberPlan:
    fmt = scalar_formatter(shape.type_name, shape.serialization.get("timestampFormat", "iso8601"))
    start, end = f"<{name}{namespace_attr(shape)}>", f"</{name}>"
    if fmt is str:
        return (_TEXT, start, end, None)
    return (_FORMATTED, start, end, fmt)


def _scalar_writer(shape: Shape) -> Writer:
    fmt = scalar_formatter(shape.type_name, shape.serialization.get("timestampFormat", "iso8601"))
    namespace = namespace_attr(shape)
    if fmt is str:

        def write_text(parts: list[str], name: str, value: Any) -> None:
            parts.append(f"<{name}{namespace}>{escape_text(value)}</{name}>")

        return write_text

    def write(parts: list[str], name: str, value: Any) -> None:
        parts.append(f"<{name}{namespace}>{escape_text(fmt(value))}</{name}>")

    return write
