"""The generic REST router: templates, greedy labels, query literals, tie-breaking."""

from __future__ import annotations

from kumoi.protocol.rest_routing import Route, Router


def _router() -> Router:
    routes = [
        Route("Root", "GET", "/"),
        Route("Literal", "GET", "/WriteGetObjectResponse"),
        Route("Bucket", "GET", "/{Bucket}"),
        Route("Object", "GET", "/{Bucket}/{Key+}"),
        Route("Parts", "GET", "/{Bucket}/{Key+}", required_query=frozenset({"uploadId"}), order=1),
        Route("Tagging", "GET", "/{Bucket}", literals=(("tagging", None),), order=2),
        Route("V2", "GET", "/{Bucket}", literals=(("list-type", "2"),), order=3),
        Route("Select", "POST", "/{Bucket}/{Key+}", literals=(("select", None), ("select-type", "2"))),
        Route("SelectAny", "POST", "/{Bucket}/{Key+}", literals=(("select", None),), order=5),
        Route("Copy", "PUT", "/{Bucket}/{Key+}", required_headers=frozenset({"x-amz-copy-source"})),
        Route("Put", "PUT", "/{Bucket}/{Key+}", order=7),
        Route("Old", "GET", "/{Bucket}", literals=(("acl", None),), deprecated=True, order=8),
        Route("New", "GET", "/{Bucket}", literals=(("acl", None),), order=9),
        Route("Mid", "GET", "/a/{x}/b/{y+}/c"),
    ]
    return Router(routes)


ROUTER = _router()


def _op(
    method: str, path: str, query: dict[str, list[str]] | None = None, headers: set[str] | None = None
) -> str | None:
    found = ROUTER.match(method, path, query or {}, headers)
    return None if found is None else found[0].operation


def test_paths_and_labels() -> None:
    assert _op("GET", "/") == "Root"
    assert _op("GET", "/WriteGetObjectResponse") == "Literal"
    assert ROUTER.match("GET", "/b/x/y/", {}) == (
        Route("Object", "GET", "/{Bucket}/{Key+}"),
        {"Bucket": "b", "Key": "x/y/"},
    )
    assert ROUTER.match("GET", "/b/", {})[1] == {"Bucket": "b"}  # type: ignore[index]
    assert ROUTER.match("GET", "/b//", {})[1] == {"Bucket": "b", "Key": "/"}  # type: ignore[index]
    assert _op("GET", "//k") is None
    assert _op("GET", "nope") is None
    assert _op("DELETE", "/b") is None
    assert ROUTER.match("GET", "/a/1/b/2/3/c", {})[1] == {"x": "1", "y": "2/3"}  # type: ignore[index]


def test_query_literals_and_requirements() -> None:
    assert _op("GET", "/b", {"tagging": [""]}) == "Tagging"
    assert _op("GET", "/b", {"list-type": ["2"]}) == "V2"
    assert _op("GET", "/b", {"list-type": ["1"]}) == "Bucket"
    assert _op("POST", "/b/k", {"select": [""], "select-type": ["2"]}) == "Select"
    assert _op("POST", "/b/k", {"select": [""]}) == "SelectAny"
    assert _op("POST", "/b/k") is None
    assert _op("GET", "/b/k", {"uploadId": ["u"]}) == "Parts"
    assert _op("GET", "/b/k", {"x-id": ["Parts"]}) == "Object"
    assert _op("PUT", "/b/k", {}, {"x-amz-copy-source"}) == "Copy"
    assert _op("PUT", "/b/k") == "Put"
    assert _op("GET", "/b", {"acl": [""]}) == "New"
    assert _op("GET", "/b", {"acl": [""], "x-id": ["Old"]}) == "Old"


def test_split_uri() -> None:
    assert Route.split_uri("/{Bucket}?select&select-type=2") == (
        "/{Bucket}",
        (("select", None), ("select-type", "2")),
    )
    assert Route.split_uri("/") == ("/", ())
