"""The SigV4 canonical request, string to sign and signing key, computed the way clients do.

Canonical URI. S3 signs the path as sent, without normalisation (``a//b/./c`` stays): we
re-encode each segment with the SigV4 rules (RFC 3986 unreserved characters kept, everything
else ``%XX`` upper-case), which leaves what SDKs send unchanged and also accepts clients that
escape an unreserved character. ``%2F`` inside a segment stays ``%2F``. Every other service signs
``quote(remove_dot_segments(path))`` of the path *as it appears in the URL*, i.e. already-escaped
characters are escaped once more (``%20`` is signed as ``%2520``), and ``.``/``..``/empty segments
are removed, exactly as botocore's ``SigV4Auth`` does.

Paths reach us as ``str``: code points up to 255 are taken as the raw bytes the edge decoded as
latin-1; a path holding larger code points (a test vector written in Unicode) is taken as UTF-8.

Canonical query. Each name and value is percent-decoded and re-encoded with the SigV4 rules,
then the pairs are sorted by name and value. ``+`` is a literal plus (SigV4 clients encode a
space as ``%20``).

Canonical headers. The signed names in the order the client listed them, each with its values
(all occurrences joined by ``,``) trimmed and with inner runs of whitespace collapsed.

Signing keys depend on (secret, date, region, service) only, so they are cached: a request
then costs two HMACs on top of hashing the canonical request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

from kumoi.core.http import Headers

ALGORITHM = "AWS4-HMAC-SHA256"
SCOPE_TERMINATOR = "aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Bound on cached signing keys; a key is valid for one day, so the cache holds a day's working set.
SIGNING_KEY_CACHE_SIZE = 4096

_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_ENCODE = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]
_ENCODE_KEEP_SLASH = [*_ENCODE[: ord("/")], "/", *_ENCODE[ord("/") + 1 :]]
_CANONICAL_PATH = re.compile(r"[A-Za-z0-9\-_.~/]*")
#: A component that is already in canonical form: unreserved characters, and ``%XX`` escapes in
#: upper-case hex of bytes that are *not* unreserved (``%2F`` stays, ``%41`` would become ``A``).
#: Such a component decodes and re-encodes to itself, so it is used as it is: what SDKs send
#: (``X-Amz-Credential=AKID%2F20150830%2F...``) costs one match, not a decode and an encode.
_ESCAPE_KEPT = r"%(?:[01][0-9A-F]|2[0-9A-CF]|3[A-F]|40|5[B-E]|60|7[B-DF]|[89A-F][0-9A-F])"
_CANONICAL_COMPONENT = re.compile(rf"(?:[A-Za-z0-9\-_.~]+|{_ESCAPE_KEPT})*")
#: A whole query string whose every name and value is canonical (one match instead of two a pair).
_CANONICAL_QUERY = re.compile(rf"(?:[A-Za-z0-9\-_.~&=]+|{_ESCAPE_KEPT})*")


def uri_encode(data: bytes, *, keep_slash: bool = False) -> str:
    """SigV4 ``UriEncode``: unreserved bytes as they are, every other byte ``%XX``."""
    table = _ENCODE_KEEP_SLASH if keep_slash else _ENCODE
    return "".join([table[b] for b in data])


def _raw_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _requote(component: str) -> str:
    if _CANONICAL_COMPONENT.fullmatch(component):
        return component
    return uri_encode(unquote_to_bytes(_raw_bytes(component)))


def remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also dropping empty segments (what AWS services expect)."""
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last


def canonical_uri(path: str, *, s3: bool) -> str:
    if path == "/":  # every json and query request
        return path
    if s3:
        if not path:
            return "/"
        if _CANONICAL_PATH.fullmatch(path):
            return path
        return "/".join([_requote(segment) for segment in path.split("/")])
    normalized = remove_dot_segments(path)
    if _CANONICAL_PATH.fullmatch(normalized):
        return normalized
    return uri_encode(_raw_bytes(normalized), keep_slash=True)


def canonical_query(query: str, *, exclude: str | None = None) -> str:
    """The sorted, re-encoded query; ``exclude`` names a parameter left out (``X-Amz-Signature``)."""
    if not query:
        return ""
    if _CANONICAL_QUERY.fullmatch(query):
        # (name, "=" or "", value): sorts as (name, value) does, equal names tie on "" < "=".
        split = [piece.partition("=") for piece in query.split("&") if piece]
        if exclude is not None:
            split = [parts for parts in split if parts[0] != exclude]
        split.sort()
        return "&".join([f"{name}={value}" for name, _, value in split])
    pairs: list[tuple[str, str]] = []
    match = _CANONICAL_COMPONENT.fullmatch
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if name == exclude:
            continue
        pairs.append(
            (
                name if match(name) else _requote(name),
                value if match(value) else _requote(value),
            )
        )
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def canonical_headers(headers: Headers, signed: Sequence[str]) -> str:
    """The canonical header block, one ``name:value\\n`` line per signed header."""
    lines: list[str] = []
    for name in signed:
        values = headers.get_all(name)
        if len(values) == 1:
            value = values[0]
            if "  " in value or value != value.strip() or "\t" in value or "\n" in value:
                value = " ".join(value.split())
        else:
            value = ",".join([" ".join(v.split()) for v in values])
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def canonical_request(
    method: str, uri: str, query: str, headers_block: str, signed_headers: str, payload_hash: str
) -> str:
    return f"{method}\n{uri}\n{query}\n{headers_block}\n{signed_headers}\n{payload_hash}"


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def sign(key: bytes, message: str) -> str:
    # Not ``hmac.digest``: its one-shot form releases the GIL around even a tiny HMAC, and on a
    # busy server every release hands the GIL to a waiting thread and costs two context switches.
    return hmac.new(key, message.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


class KeySigner:
    """HMAC-SHA256 under one signing key, with the key's inner and outer hash states (RFC 2104)
    computed once: a signature then costs two hash-state copies instead of building an HMAC
    object (half the time of ``hmac.new``, and like it, the GIL is kept for small messages)."""

    __slots__ = ("_inner", "_outer", "key")

    def __init__(self, key: bytes) -> None:
        self.key = key
        block = key.ljust(_SHA256_BLOCK, b"\0")  # a signing key is 32 bytes, under one block
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def sign(self, message: str) -> str:
        """``sign(self.key, message)``."""
        inner = self._inner.copy()
        inner.update(message.encode("utf-8", "surrogateescape"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_SHA256_BLOCK = 64
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class SigningKeys:
    """Derives and caches SigV4 signing keys ``HMAC chain(AWS4+secret, date, region, service)``."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str, str], KeySigner] = {}

    def get(self, secret: str, date: str, region: str, service: str) -> bytes:
        return self.signer(secret, date, region, service).key

    def signer(self, secret: str, date: str, region: str, service: str) -> KeySigner:
        cache_key = (secret, date, region, service)
        signer = self._cache.get(cache_key)
        if signer is None:
            signer = KeySigner(derive_signing_key(secret, date, region, service))
            if len(self._cache) >= SIGNING_KEY_CACHE_SIZE:
                self._cache.clear()
            self._cache[cache_key] = signer
        return signer


def derive_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, SCOPE_TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key
