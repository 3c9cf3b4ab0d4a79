"""The one SigV4 verifier every request goes through.

``authenticate`` finds how the request is signed (``Authorization`` header, presigned query, or
not at all), looks the access key up, checks time (15 minutes of skew for header auth; presigned
validity), recomputes the signature from the canonical request (:mod:`kumoi.auth.canonical`) and
compares it in constant time. It also takes charge of the body, because the payload is part of
what is signed:

* S3 (``s3=True``) bodies are never read here. ``x-amz-content-sha256`` says how the payload is
  covered: a hex SHA-256 (the body is wrapped in :class:`~kumoi.auth.payload.Sha256VerifyingBody`),
  ``UNSIGNED-PAYLOAD`` (left as is), or one of the ``STREAMING-*`` aws-chunked forms (wrapped in
  :class:`~kumoi.auth.chunked.AwsChunkedBody`, which decodes and verifies chunk signatures and
  trailing checksums while the provider streams it).
* Other services' bodies are small documents: read (at most ``max_body``), hashed, signed over,
  and handed on as a :class:`~kumoi.core.streams.BytesBody`.

S3 requests may also carry legacy SigV2 (``AWS key:signature`` or ``?AWSAccessKeyId=..``, what
boto3 presigns with by default in us-east-1); :mod:`kumoi.auth.sigv2` builds their string to
sign and this module applies the same key, time and token rules.

Failures raise :class:`~kumoi.auth.errors.SigV4Failure`; :func:`kumoi.auth.errors.error_for`
turns them into each protocol family's codes. With ``accept_any_key`` an unknown key is let in
as the root of an account (its signature cannot be checked); known keys are always verified.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import unquote

from kumoi.auth import errors as e
from kumoi.auth import sigv2
from kumoi.auth.canonical import (
    ALGORITHM,
    SCOPE_TERMINATOR,
    KeySigner,
    SigningKeys,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    string_to_sign,
)
from kumoi.auth.chunked import AwsChunkedBody, ChunkSigning
from kumoi.auth.credentials import Credential, CredentialProvider, root_credential
from kumoi.auth.payload import Sha256VerifyingBody
from kumoi.core.clock import Clock
from kumoi.core.context import Caller
from kumoi.core.http import HttpRequest
from kumoi.core.streams import MAX_DOCUMENT_BODY, BodyTooLarge, read_limited

#: Allowed difference between the request's time and ours, for header auth (AWS: 15 minutes).
MAX_SKEW_SECONDS = 15 * 60
#: Presigned URLs live at most 7 days.
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_SIGV4A_PAYLOADS = frozenset(
    {"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"}
)
_STREAMING = {
    STREAMING_SIGNED: (True, False),
    STREAMING_SIGNED_TRAILER: (True, True),
    STREAMING_UNSIGNED_TRAILER: (False, True),
}
_HEX = frozenset("0123456789abcdef")
_PRESIGN_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    }
)
SIGV2_PREFIX = "AWS "
#: SigV2 names no region; it is what us-east-1 clients send.
SIGV2_REGION = "us-east-1"
#: Authorization headers remembered parsed (all but their signature; see ``_parse_header``), and
#: the longest remembered (usual ones have 150 to 400 characters): memory stays bounded.
CLAIM_CACHE_SIZE = 256
CLAIM_CACHE_MAX_LENGTH = 2048
_SIGNATURE_MARKER = ", Signature="


class AuthResult(NamedTuple):
    """Who signed a request, and the region and service its signature is scoped to.

    (A named tuple rather than a frozen dataclass: it is built for every request, and a frozen
    dataclass's ``__init__`` costs three times as much.)"""

    caller: Caller
    region: str
    service: str
    method: str  # "header" | "presigned" | "anonymous"


class _Signed(NamedTuple):
    """What a request claims: from the Authorization header or the presign parameters."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: str
    signature: str
    amz_date: str
    presigned: bool

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{SCOPE_TERMINATOR}"


def anonymous_result(region: str, service: str) -> AuthResult:
    """The result for an unsigned request: a caller with no account."""
    caller = Caller(account_id="", arn="anonymous", user_id="anonymous", access_key_id="")
    return AuthResult(caller, region, service, "anonymous")


class SigV4Verifier:
    __slots__ = (
        "_accept_any_key",
        "_claims",
        "_clock",
        "_credentials",
        "_default_account",
        "_keys",
        "_max_body",
    )

    def __init__(
        self,
        credentials: CredentialProvider,
        clock: Clock,
        *,
        accept_any_key: bool = False,
        default_account: str = "000000000000",
        max_body: int = MAX_DOCUMENT_BODY,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._accept_any_key = accept_any_key
        self._default_account = default_account
        self._max_body = max_body
        self._keys = SigningKeys()
        #: What the Authorization headers seen last claim, keyed by all of the header but the
        #: signature value: (access key id, date, region, service, signed headers).
        self._claims: dict[str, tuple[str, str, str, str, str]] = {}

    async def authenticate(
        self, request: HttpRequest, *, s3: bool, virtual_host_bucket: str | None = None
    ) -> AuthResult:
        """Verify ``request``; S3 bodies are wrapped, other bodies read (see the module doc).

        ``virtual_host_bucket`` is the bucket a virtual-hosted S3 request addresses through its
        host name: legacy SigV2 signs ``/bucket/key`` whatever the addressing style.
        """
        authorization = request.headers.get("authorization")
        query = request.query_string
        presign = _presign_params(query) if "X-Amz-" in query else None
        sigv2_query = "Signature=" in query and "AWSAccessKeyId=" in query
        if authorization is not None:
            if presign is not None or sigv2_query or request.headers.count("authorization") > 1:
                raise e.SigV4Failure(
                    e.MULTIPLE_AUTH, status=400, query_message="Only one auth mechanism allowed"
                )
            if s3 and authorization.startswith(SIGV2_PREFIX):
                return self._authenticate_v2(request, authorization[len(SIGV2_PREFIX) :], virtual_host_bucket)
            claim = self._parse_header(authorization, request)
        elif presign is not None:
            claim = self._parse_presign(presign)
        elif sigv2_query:
            if not s3:
                raise e.SigV4Failure(e.UNSUPPORTED_AUTH, status=400, query_message="Use AWS4-HMAC-SHA256")
            return self._authenticate_v2(request, None, virtual_host_bucket)
        else:
            if not s3:
                raise e.SigV4Failure(e.MISSING_AUTH)
            await self._wrap_s3_body(request, None, None)
            return anonymous_result("", "s3")

        credential, verify = self._resolve(claim.access_key_id)
        self._check_time(claim, presign)
        if verify:
            token = presign.get("X-Amz-Security-Token") if presign is not None else None
            self._check_token(credential, token or request.headers.get("x-amz-security-token"))
        if s3:
            self._check_signed_headers(claim, request)

        signer = self._keys.signer(credential.secret_access_key, claim.date, claim.region, claim.service)
        if s3:
            payload_hash = await self._wrap_s3_body(request, claim, signer.key if verify else None)
        else:
            try:
                document = await read_limited(request.body, self._max_body)
            except BodyTooLarge as error:
                message = f"Request body exceeds the maximum size of {error.limit} bytes"
                raise e.SigV4Failure(e.BODY_TOO_LARGE, message, 413, query_message=message) from None
            request.set_document(document)
            payload_hash = hashlib.sha256(document).hexdigest()
        if verify:
            self._check_signature(request, claim, signer, payload_hash, s3=s3)
        method = "presigned" if claim.presigned else "header"
        return AuthResult(_caller(credential), claim.region, claim.service, method)

    def _resolve(self, access_key_id: str) -> tuple[Credential, bool]:
        """The credential for ``access_key_id`` and whether its signature can be verified."""
        credential = self._credentials.lookup(access_key_id)
        if credential is not None:
            return credential, True
        if not self._accept_any_key:
            raise e.SigV4Failure(e.UNKNOWN_ACCESS_KEY, AWSAccessKeyId=access_key_id)
        return self._synthesize(access_key_id), False

    def _authenticate_v2(self, request: HttpRequest, header: str | None, bucket: str | None) -> AuthResult:
        pairs = sigv2.query_pairs(request.query_string)
        now = self._clock.now()
        if header is not None:
            access_key_id, colon, provided = header.strip().rpartition(":")
            if not colon or not access_key_id:
                raise _malformed("AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
            amz_date = request.headers.get("x-amz-date")
            date_text = amz_date if amz_date is not None else request.headers.get("date")
            request_time = _parse_http_date(date_text)
            if request_time is None:
                raise e.SigV4Failure(e.MISSING_DATE)
            if abs(now - request_time) > MAX_SKEW_SECONDS:
                raise _skewed(_iso_basic(request_time), request_time, now)
            date_line = "" if amz_date is not None else (date_text or "").strip()
            method = "header"
        else:
            params = dict(pairs)
            access_key_id, provided = params["AWSAccessKeyId"], params["Signature"]
            date_line = params.get("Expires", "")
            if not date_line.isdigit() or len(date_line) > 12:
                raise _malformed_query(
                    "Query-string authentication requires the Expires parameter as a number"
                )
            if now > int(date_line):
                expired = e.SigV4Failure(e.PRESIGN_EXPIRED, query_message="Request has expired")
                expired.fields.update(
                    {"Expires": _iso_extended(int(date_line)), "ServerTime": _iso_extended(now)}
                )
                raise expired
            method = "presigned"
        credential, verify = self._resolve(access_key_id)
        if verify:
            token = next((value for name, value in pairs if name.lower() == "x-amz-security-token"), None)
            self._check_token(credential, token or request.headers.get("x-amz-security-token"))
            to_sign = sigv2.string_to_sign(request, date_line, pairs, bucket)
            expected = sigv2.signature(credential.secret_access_key, to_sign)
            if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogateescape")):
                raise e.SigV4Failure(
                    e.SIGNATURE_MISMATCH,
                    AWSAccessKeyId=access_key_id,
                    StringToSign=to_sign,
                    SignatureProvided=provided,
                    StringToSignBytes=_hex_bytes(to_sign),
                )
        return AuthResult(_caller(credential), SIGV2_REGION, "s3", method)

    # -- parsing -----------------------------------------------------------------------------

    def _parse_header(self, authorization: str, request: HttpRequest) -> _Signed:
        """The claim of an ``Authorization`` header.

        Headers differ from one request to the next in their signature only, so the rest is
        parsed once: where the header ends in ``, Signature=<value>`` with no comma in the value,
        parsing the whole header gives the claim parsed from the same header before with this
        value as the signature (a later ``Signature`` overrides an earlier one)."""
        head, marker, signature = authorization.rpartition(_SIGNATURE_MARKER)
        cacheable = bool(marker) and "," not in signature and len(head) <= CLAIM_CACHE_MAX_LENGTH
        if cacheable:
            known = self._claims.get(head)
            if known is not None:
                amz_date = _request_date(request)
                access_key_id, date, region, service, signed_headers = known
                if date != amz_date[:8]:
                    raise _malformed(_DATE_MISMATCH)
                return _Signed(
                    access_key_id, date, region, service, signed_headers, signature.strip(), amz_date, False
                )
        claim = self._parse_whole_header(authorization, request)
        if cacheable:
            if len(self._claims) >= CLAIM_CACHE_SIZE:
                self._claims.clear()
            self._claims[head] = (
                claim.access_key_id,
                claim.date,
                claim.region,
                claim.service,
                claim.signed_headers,
            )
        return claim

    def _parse_whole_header(self, authorization: str, request: HttpRequest) -> _Signed:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise e.SigV4Failure(
                e.UNSUPPORTED_AUTH,
                status=400,
                query_message=f"Authorization header algorithm {algorithm[:64]!r} is not supported; "
                f"use {ALGORITHM}.",
            )
        parts: dict[str, str] = {}
        for component in rest.split(","):
            name, equals, value = component.strip().partition("=")
            if not equals:
                raise _malformed(f"'{component.strip()[:64]}' is not a key=value pair")
            parts[name] = value.strip()
        missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in parts]
        if missing:
            raise _malformed(f"Authorization header requires '{missing[0]}' parameter.")
        amz_date = _request_date(request)
        access_key_id, date, region, service = _parse_scope(parts["Credential"], query=False)
        if date != amz_date[:8]:
            raise _malformed(_DATE_MISMATCH)
        return _Signed(
            access_key_id, date, region, service, parts["SignedHeaders"], parts["Signature"], amz_date, False
        )

    def _parse_presign(self, params: dict[str, str]) -> _Signed:
        if not params.keys() >= _PRESIGN_PARAMS:
            raise _malformed_query(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            )
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise _malformed_query('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        amz_date = params["X-Amz-Date"]
        if _parse_amz_date(amz_date) is None:
            raise _malformed_query("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        access_key_id, date, region, service = _parse_scope(params["X-Amz-Credential"], query=True)
        if date != amz_date[:8]:
            raise _malformed_query("Invalid credential date. Date is not the same as X-Amz-Date.")
        return _Signed(
            access_key_id,
            date,
            region,
            service,
            params["X-Amz-SignedHeaders"],
            params["X-Amz-Signature"],
            amz_date,
            True,
        )

    def _synthesize(self, access_key_id: str) -> Credential:
        account = (
            access_key_id if len(access_key_id) == 12 and access_key_id.isdigit() else self._default_account
        )
        return root_credential(access_key_id, "", account)

    # -- checks ------------------------------------------------------------------------------

    def _check_time(self, claim: _Signed, presign: dict[str, str] | None) -> None:
        request_time = _parse_amz_date(claim.amz_date)
        if request_time is None:
            raise e.SigV4Failure(e.MISSING_DATE)
        now = self._clock.now()
        if presign is None:
            if abs(now - request_time) > MAX_SKEW_SECONDS:
                raise _skewed(claim.amz_date, request_time, now)
            return
        expires_text = presign["X-Amz-Expires"]
        if not expires_text.isdigit() or len(expires_text) > 7:
            raise _malformed_query("X-Amz-Expires should be a number")
        expires = int(expires_text)
        if expires > MAX_PRESIGN_EXPIRES:
            raise _malformed_query("X-Amz-Expires must be less than a week (in seconds) that is 604800")
        if request_time - now > MAX_SKEW_SECONDS:
            raise e.SigV4Failure(
                e.PRESIGN_NOT_YET_VALID,
                query_message=f"Signature not yet current: {claim.amz_date} is still later than "
                f"{_iso_basic(now + MAX_SKEW_SECONDS)} ({_iso_basic(now)} + 15 min.)",
            )
        if now > request_time + expires:
            expired = e.SigV4Failure(
                e.PRESIGN_EXPIRED,
                query_message=f"Signature expired: {claim.amz_date} is now earlier than "
                f"{_iso_basic(now - expires)} ({_iso_basic(now)} - {expires} sec.)",
            )
            expired.fields.update(
                {
                    "X-Amz-Expires": expires_text,
                    "Expires": _iso_extended(request_time + expires),
                    "ServerTime": _iso_extended(now),
                }
            )
            raise expired

    def _check_token(self, credential: Credential, token: str | None) -> None:
        check_session_token(credential, token, self._clock.now())

    def _check_signed_headers(self, claim: _Signed, request: HttpRequest) -> None:
        """S3 refuses ``x-amz-*`` headers that the signature does not cover."""
        signed = claim.signed_headers.split(";")
        unsigned = [
            name for name in request.headers.names() if name.startswith("x-amz-") and name not in signed
        ]
        if unsigned:
            raise e.SigV4Failure(e.HEADERS_NOT_SIGNED, HeadersNotSigned=", ".join(unsigned))

    def _check_signature(
        self, request: HttpRequest, claim: _Signed, signer: KeySigner, payload_hash: str, *, s3: bool
    ) -> None:
        signed = claim.signed_headers.split(";")
        if "host" not in signed:
            raise e.SigV4Failure(
                e.MALFORMED_QUERY_AUTH if claim.presigned else e.MALFORMED_AUTH,
                "The host header must be signed.",
                400,
                query_message="'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        exclude = "X-Amz-Signature" if claim.presigned else None
        canonical = canonical_request(
            request.method,
            canonical_uri(request.path, s3=s3),
            canonical_query(request.query_string, exclude=exclude),
            canonical_headers(request.headers, signed),
            claim.signed_headers,
            payload_hash,
        )
        to_sign = string_to_sign(claim.amz_date, claim.scope, canonical)
        expected = signer.sign(to_sign)
        if not hmac.compare_digest(expected.encode(), claim.signature.encode("utf-8", "surrogateescape")):
            raise e.SigV4Failure(
                e.SIGNATURE_MISMATCH,
                AWSAccessKeyId=claim.access_key_id,
                StringToSign=to_sign,
                SignatureProvided=claim.signature,
                StringToSignBytes=_hex_bytes(to_sign),
                CanonicalRequest=canonical,
                CanonicalRequestBytes=_hex_bytes(canonical),
            )

    # -- payload -----------------------------------------------------------------------------

    async def _wrap_s3_body(self, request: HttpRequest, claim: _Signed | None, key: bytes | None) -> str:
        """Wrap the S3 body per ``x-amz-content-sha256``; returns the payload hash that was signed."""
        content_sha = request.headers.get("x-amz-content-sha256")
        if claim is not None and claim.presigned:
            return UNSIGNED_PAYLOAD
        if content_sha is None:
            if claim is not None:
                raise e.SigV4Failure(e.MISSING_CONTENT_SHA256, status=400)
            return UNSIGNED_PAYLOAD
        if content_sha == UNSIGNED_PAYLOAD:
            return content_sha
        streaming = _STREAMING.get(content_sha)
        if streaming is not None:
            signed, trailer = streaming
            if signed and claim is None:
                raise e.SigV4Failure(e.MISSING_AUTH)
            signing = None
            if signed and claim is not None and key is not None:
                signing = ChunkSigning(key, claim.amz_date, claim.scope, claim.signature, claim.access_key_id)
            request.body = AwsChunkedBody(
                request.body,
                signed=signed,
                trailer=trailer,
                signing=signing,
                declared_trailers=_declared_trailers(request),
                decoded_length=_decoded_length(request),
            )
            return content_sha
        if len(content_sha) == 64 and _HEX.issuperset(content_sha.lower()):
            request.body = Sha256VerifyingBody(request.body, content_sha)
            return content_sha
        if content_sha in _SIGV4A_PAYLOADS:
            raise e.SigV4Failure(e.UNSUPPORTED_AUTH, status=400, query_message="SigV4a is not supported")
        raise e.SigV4Failure(
            e.INVALID_CONTENT_SHA256,
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
            "sha256 value.",
            400,
            ArgumentName="x-amz-content-sha256",
            ArgumentValue=content_sha[:128],
        )


# -- helpers ---------------------------------------------------------------------------------


def check_session_token(credential: Credential, token: str | None, now: float) -> None:
    """Temporary credentials need their own session token, unexpired; others must send none."""
    if credential.session_token is None:
        if token is not None:
            raise e.SigV4Failure(e.INVALID_TOKEN)
        return
    if token is None or not hmac.compare_digest(token.encode(), credential.session_token.encode()):
        raise e.SigV4Failure(e.INVALID_TOKEN)
    if credential.expires_at is not None and now >= credential.expires_at:
        raise e.SigV4Failure(e.EXPIRED_TOKEN)


def _caller(credential: Credential) -> Caller:
    return Caller(
        account_id=credential.account_id,
        arn=credential.arn,
        user_id=credential.user_id,
        access_key_id=credential.access_key_id,
        session_token=credential.session_token,
        is_root=credential.is_root,
    )


def _parse_http_date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _presign_params(query: str) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for piece in query.split("&"):
        if piece.startswith("X-Amz-"):
            name, _, value = piece.partition("=")
            params[name] = _unquote(value) if "%" in value else value
    return params if "X-Amz-Algorithm" in params or "X-Amz-Credential" in params else None


def _unquote(value: str) -> str:
    """``unquote``, short-cut for the one escape SDKs put in presign values (``/`` as ``%2F``)."""
    slashed = value.replace("%2F", "/").replace("%2f", "/")
    return slashed if "%" not in slashed else unquote(value)


def _parse_scope(credential: str, *, query: bool) -> tuple[str, str, str, str]:
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or parts[4] != SCOPE_TERMINATOR or not parts[0] or len(parts[1]) != 8:
        message = (
            'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
        if query:
            raise _malformed_query(f"Error parsing the X-Amz-Credential parameter; {message}")
        raise _malformed(f"The authorization header is malformed; {message}")
    return parts[0], parts[1], parts[2], parts[3]


def _request_date(request: HttpRequest) -> str:
    """The request time in ISO 8601 basic form, from ``x-amz-date`` or else ``Date``."""
    amz_date = request.headers.get("x-amz-date")
    if amz_date is not None:
        if _parse_amz_date(amz_date) is None:
            raise e.SigV4Failure(e.MISSING_DATE)
        return amz_date
    date = request.headers.get("date")
    if date is None:
        raise e.SigV4Failure(e.MISSING_DATE)
    parsed = _parse_http_date(date)
    if parsed is None:
        raise e.SigV4Failure(e.MISSING_DATE)
    return _iso_basic(parsed)


@functools.lru_cache(maxsize=256)
def _parse_amz_date(text: str) -> float | None:
    """Epoch seconds of ``YYYYMMDDTHHMMSSZ``, or ``None`` if it is not that form."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        return None
    try:
        moment = datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[9:11]),
            int(text[11:13]),
            int(text[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return moment.timestamp()


def _iso_basic(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _iso_extended(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _hex_bytes(text: str) -> str:
    return " ".join(f"{b:02x}" for b in text.encode("utf-8", "surrogateescape"))


_DATE_MISMATCH = (
    "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."
)


def _malformed(message: str) -> e.SigV4Failure:
    return e.SigV4Failure(e.MALFORMED_AUTH, message, 400, query_message=message)


def _malformed_query(message: str) -> e.SigV4Failure:
    return e.SigV4Failure(e.MALFORMED_QUERY_AUTH, message, 400, query_message=message)


def _skewed(amz_date: str, request_time: float, now: float) -> e.SigV4Failure:
    if request_time < now:
        message = (
            f"Signature expired: {amz_date} is now earlier than {_iso_basic(now - MAX_SKEW_SECONDS)} "
            f"({_iso_basic(now)} - 15 min.)"
        )
    else:
        message = (
            f"Signature not yet current: {amz_date} is still later than "
            f"{_iso_basic(now + MAX_SKEW_SECONDS)} ({_iso_basic(now)} + 15 min.)"
        )
    return e.SigV4Failure(
        e.CLOCK_SKEW,
        query_message=message,
        RequestTime=amz_date,
        ServerTime=_iso_extended(now),
        MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
    )


def _declared_trailers(request: HttpRequest) -> tuple[str, ...]:
    declared = request.headers.get("x-amz-trailer")
    if not declared:
        return ()
    return tuple(name.strip().lower() for name in declared.split(",") if name.strip())


def _decoded_length(request: HttpRequest) -> int | None:
    text = request.headers.get("x-amz-decoded-content-length")
    if text is None:
        return None
    if not text.isdigit() or len(text) > 19:
        raise e.SigV4Failure(
            e.INVALID_HEADER,
            "x-amz-decoded-content-length must be a non-negative integer.",
            400,
            query_message="x-amz-decoded-content-length must be a non-negative integer.",
        )
    return int(text)
