"""Which operation does a REST request call? A table compiled once from the model's request URIs.

A ``requestUri`` such as ``/{Bucket}/{Key+}?uploads`` has a path template (literal segments,
``{label}`` segments and at most one greedy ``{label+}`` per template) and query literals (``uploads``,
``list-type=2``). Matching a request costs:

1. a walk down a trie of path segments: a dict lookup per literal segment, a label consumes one
   non-empty segment, a greedy label the rest of the path (``/`` kept, at least one character);
2. at the endpoint reached, one dict lookup per query key of the request to find the query-literal
   groups it could belong to (``?tagging`` → GetBucketTagging); the group with the most literals
   wins, then the model order; without any, the group of routes with no literals (ListObjects);
3. inside a group of several operations that share method, path and literals (GetObject and
   ListParts; PutObject, CopyObject, UploadPart, UploadPartCopy), the route whose *required*
   query and header members are all present, and the most of them, wins: that is how S3 itself
   tells ``?uploadId`` (ListParts) or ``x-amz-copy-source`` (CopyObject) apart. Remaining ties
   go to the route with the most optional query members present, then to one not deprecated, then
   to model order. An ``x-id`` query parameter (sent by newer SDKs, never needed) picks its
   operation when that operation is eligible. A request that lacks a required query member of
   every operation there matches none (``POST /bucket/key`` without ``?uploadId``: S3 answers
   ``MethodNotAllowed``); one that lacks only required headers falls back to the operation that
   requires least.

A path whose last segment is empty (``/bucket/``) is retried without it when it matches nothing,
so a trailing slash addresses the bucket, while ``/bucket//`` is the key ``/``. Required header
names are compiled lower-cased and tested with ``in`` (as :class:`kumoi.core.http.Headers` answers).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: The query parameter newer SDKs add to make every request URI unique (``?x-id=GetObject``).
OPERATION_HINT = "x-id"


@dataclass(frozen=True, slots=True)
class Route:
    """One operation's HTTP binding, as compiled from the model (or added as a pseudo-operation)."""

    operation: str
    method: str
    path: str
    literals: tuple[tuple[str, str | None], ...] = ()
    required_query: frozenset[str] = frozenset()
    required_headers: frozenset[str] = frozenset()
    optional_query: frozenset[str] = frozenset()
    deprecated: bool = False
    order: int = 0

    @staticmethod
    def split_uri(request_uri: str) -> tuple[str, tuple[tuple[str, str | None], ...]]:
        """Split a model ``requestUri`` into its path template and query literals."""
        path, _, query = request_uri.partition("?")
        literals: list[tuple[str, str | None]] = []
        for pair in query.split("&") if query else ():
            key, sep, value = pair.partition("=")
            literals.append((key, value if sep else None))
        return path, tuple(literals)


@dataclass(slots=True)
class _Group:
    literals: tuple[tuple[str, str | None], ...]
    rank: tuple[int, int]
    routes: list[Route] = field(default_factory=list)

    def accepts(self, query: Mapping[str, Sequence[str]]) -> bool:
        for key, value in self.literals:
            values = query.get(key)
            if values is None or (value is not None and values[0] != value):
                return False
        return True

    def choose(self, query: Mapping[str, Sequence[str]], headers: Container[str] | None) -> Route | None:
        routes = self.routes
        if len(routes) == 1:
            return routes[0] if _has_query(routes[0], query) else None
        eligible = [route for route in routes if _eligible(route, query, headers)]
        if not eligible:
            addressed = [route for route in routes if _has_query(route, query)]
            if not addressed:
                return None
            return min(addressed, key=lambda r: (len(r.required_query) + len(r.required_headers), r.order))
        hint = query.get(OPERATION_HINT)
        if hint:
            for route in eligible:
                if route.operation == hint[0]:
                    return route
        if len(eligible) == 1:
            return eligible[0]

        def score(route: Route) -> tuple[int, int, bool, int]:
            optional = sum(1 for key in query if key in route.optional_query)
            required = len(route.required_query) + len(route.required_headers)
            return (-required, -optional, route.deprecated, route.order)

        return min(eligible, key=score)


def _has_query(route: Route, query: Mapping[str, Sequence[str]]) -> bool:
    return all(key in query for key in route.required_query)


def _eligible(route: Route, query: Mapping[str, Sequence[str]], headers: Container[str] | None) -> bool:
    if not _has_query(route, query):
        return False
    if route.required_headers:
        if headers is None:
            return False
        for name in route.required_headers:
            if name not in headers:
                return False
    return True


@dataclass(slots=True)
class _Endpoint:
    """Everything reachable at one path shape for one method."""

    label_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_literal: dict[str, list[_Group]] = field(default_factory=dict)
    groups: dict[tuple[tuple[str, str | None], ...], _Group] = field(default_factory=dict)
    plain: _Group | None = None

    def add(self, route: Route, labels: tuple[str, ...]) -> None:
        self.label_names[route.operation] = labels
        key = tuple(sorted(route.literals, key=lambda lit: (lit[0], lit[1] or "")))
        group = self.groups.get(key)
        if group is None:
            group = _Group(key, (-len(key), route.order))
            self.groups[key] = group
            if key:
                for literal_key, _ in key:
                    self.by_literal.setdefault(literal_key, []).append(group)
            else:
                self.plain = group
        group.routes.append(route)

    def select(self, query: Mapping[str, Sequence[str]], headers: Container[str] | None) -> Route | None:
        best: _Group | None = None
        if query and self.by_literal:
            for key in query:
                for group in self.by_literal.get(key, ()):
                    if (best is None or group.rank < best.rank) and group.accepts(query):
                        best = group
        chosen = best or self.plain
        return None if chosen is None else chosen.choose(query, headers)


class _Node:
    __slots__ = ("endpoints", "greedy", "label", "literal")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.label: _Node | None = None
        self.greedy: _Node | None = None
        self.endpoints: dict[str, _Endpoint] = {}

    def is_leaf(self) -> bool:
        return not (self.literal or self.label or self.greedy)


class Router:
    """Matches (method, path, query, headers) to a :class:`Route` and its raw label values."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._root = _Node()
        for route in routes:
            self._add(route)

    def _add(self, route: Route) -> None:
        node = self._root
        labels: list[str] = []
        template = route.path[1:] if route.path.startswith("/") else route.path
        for segment in template.split("/") if template else ():
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if name.endswith("+"):
                    node.greedy = node.greedy or _Node()
                    node = node.greedy
                    name = name[:-1]
                else:
                    node.label = node.label or _Node()
                    node = node.label
                labels.append(name)
            else:
                node = node.literal.setdefault(segment, _Node())
        endpoint = node.endpoints.setdefault(route.method, _Endpoint())
        endpoint.add(route, tuple(labels))

    def match(
        self,
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        headers: Container[str] | None = None,
    ) -> tuple[Route, dict[str, str]] | None:
        """The route and its raw (still percent-encoded) label values, or ``None``."""
        if not path.startswith("/"):
            return None
        rest = path[1:]
        segments = rest.split("/") if rest else []
        values: list[str] = []
        endpoint = _walk(self._root, method, segments, 0, values)
        if endpoint is None and segments and segments[-1] == "":
            segments.pop()
            values.clear()
            endpoint = _walk(self._root, method, segments, 0, values)
        if endpoint is None:
            return None
        route = endpoint.select(query, headers)
        if route is None:
            return None
        return route, dict(zip(endpoint.label_names[route.operation], values, strict=True))


def _walk(node: _Node, method: str, segments: list[str], index: int, values: list[str]) -> _Endpoint | None:
    if index == len(segments):
        return node.endpoints.get(method)
    segment = segments[index]
    child = node.literal.get(segment)
    if child is not None:
        found = _walk(child, method, segments, index + 1, values)
        if found is not None:
            return found
    if node.label is not None and segment:
        values.append(segment)
        found = _walk(node.label, method, segments, index + 1, values)
        if found is not None:
            return found
        values.pop()
    greedy = node.greedy
    if greedy is not None:
        if greedy.is_leaf():
            rest = "/".join(segments[index:])
            endpoint = greedy.endpoints.get(method)
            if rest and endpoint is not None:
                values.append(rest)
                return endpoint
            return None
        for end in range(len(segments), index, -1):
            rest = "/".join(segments[index:end])
            if rest:
                values.append(rest)
                found = _walk(greedy, method, segments, end, values)
                if found is not None:
                    return found
                values.pop()
    return None
