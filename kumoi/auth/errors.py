"""Authentication failures, and the code each protocol family answers them with.

The verifier raises :class:`SigV4Failure` (an :class:`~kumoi.core.errors.AuthFailure`) naming a
*kind* of failure; it does not know which wire protocol the request speaks. :func:`error_for`
turns the failure into the :class:`ServiceError` the family documents: S3 answers an unknown key
with ``InvalidAccessKeyId``, the query services (IAM, STS, SNS, legacy SQS) with
``InvalidClientTokenId`` and JSON services with ``UnrecognizedClientException``. JSON errors carry
``x-amzn-query-error`` with the query code, because SQS is ``awsQueryCompatible``: botocore reports
that header's code, so an SQS client sees the same code over JSON as over query.

S3 answers carry the diagnostic fields AWS puts in the error body (``StringToSign``,
``CanonicalRequest``, ``RequestTime``...); the other families carry the message only.

Errors found while a verifying body stream is read (payload hash, chunk signatures, trailing
checksums, framing) only happen on S3 requests, so the stream helpers at the end build S3
errors directly.
"""

from __future__ import annotations

from typing import Literal

from kumoi.core.errors import AuthFailure, ServiceError

Family = Literal["s3", "query", "json"]

UNKNOWN_ACCESS_KEY = "UnknownAccessKey"
SIGNATURE_MISMATCH = "SignatureMismatch"
CLOCK_SKEW = "ClockSkew"
MISSING_AUTH = "MissingAuth"
MISSING_DATE = "MissingDate"
MALFORMED_AUTH = "MalformedAuth"
MALFORMED_QUERY_AUTH = "MalformedQueryAuth"
UNSUPPORTED_AUTH = "UnsupportedAuth"
MULTIPLE_AUTH = "MultipleAuth"
PRESIGN_EXPIRED = "PresignExpired"
PRESIGN_NOT_YET_VALID = "PresignNotYetValid"
EXPIRED_TOKEN = "ExpiredToken"
INVALID_TOKEN = "InvalidToken"
HEADERS_NOT_SIGNED = "HeadersNotSigned"
MISSING_CONTENT_SHA256 = "MissingContentSHA256"
INVALID_CONTENT_SHA256 = "InvalidContentSHA256"
INVALID_HEADER = "InvalidHeader"
BODY_TOO_LARGE = "BodyTooLarge"

ACCEPT_ANY_KEY_HINT = (
    " (kumoi: start the server with --accept-any-key or KUMOI_ACCEPT_ANY_KEY=1 to let any access key in.)"
)
S3_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_QUERY_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."

#: ``None`` as a message means "the failure's own message" (it carries request-specific detail).
_Answer = tuple[str, int, str | None]
_TABLE: dict[str, dict[Family, _Answer]] = {
    UNKNOWN_ACCESS_KEY: {
        "s3": (
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records." + ACCEPT_ANY_KEY_HINT,
        ),
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN_MESSAGE + ACCEPT_ANY_KEY_HINT),
        "json": ("UnrecognizedClientException", 403, _INVALID_TOKEN_MESSAGE + ACCEPT_ANY_KEY_HINT),
    },
    SIGNATURE_MISMATCH: {
        "s3": ("SignatureDoesNotMatch", 403, S3_SIGNATURE_MESSAGE),
        "query": ("SignatureDoesNotMatch", 403, _QUERY_SIGNATURE_MESSAGE),
        "json": ("InvalidSignatureException", 403, _QUERY_SIGNATURE_MESSAGE),
    },
    CLOCK_SKEW: {
        "s3": (
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        ),
        "query": ("SignatureDoesNotMatch", 403, None),
        "json": ("InvalidSignatureException", 403, None),
    },
    MISSING_AUTH: {
        "s3": ("AccessDenied", 403, "Access Denied"),
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "json": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
    },
    MISSING_DATE: {
        "s3": ("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header"),
        "query": (
            "IncompleteSignature",
            400,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ),
        "json": (
            "IncompleteSignatureException",
            400,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ),
    },
    MALFORMED_AUTH: {
        "s3": ("AuthorizationHeaderMalformed", 400, None),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    MALFORMED_QUERY_AUTH: {
        "s3": ("AuthorizationQueryParametersError", 400, None),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    UNSUPPORTED_AUTH: {
        "s3": (
            "InvalidRequest",
            400,
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        ),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    MULTIPLE_AUTH: {
        "s3": (
            "InvalidArgument",
            400,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
            "string parameter or the Authorization header should be specified",
        ),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    PRESIGN_EXPIRED: {
        "s3": ("AccessDenied", 403, "Request has expired"),
        "query": ("SignatureDoesNotMatch", 403, None),
        "json": ("InvalidSignatureException", 403, None),
    },
    PRESIGN_NOT_YET_VALID: {
        "s3": ("AccessDenied", 403, "Request is not valid yet"),
        "query": ("SignatureDoesNotMatch", 403, None),
        "json": ("InvalidSignatureException", 403, None),
    },
    EXPIRED_TOKEN: {
        "s3": ("ExpiredToken", 400, "The provided token has expired."),
        "query": ("ExpiredToken", 403, "The security token included in the request is expired"),
        "json": ("ExpiredTokenException", 403, "The security token included in the request is expired"),
    },
    INVALID_TOKEN: {
        "s3": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN_MESSAGE),
        "json": ("UnrecognizedClientException", 403, _INVALID_TOKEN_MESSAGE),
    },
    HEADERS_NOT_SIGNED: {
        "s3": ("AccessDenied", 403, "There were headers present in the request which were not signed"),
        "query": ("SignatureDoesNotMatch", 403, _QUERY_SIGNATURE_MESSAGE),
        "json": ("InvalidSignatureException", 403, _QUERY_SIGNATURE_MESSAGE),
    },
    MISSING_CONTENT_SHA256: {
        "s3": ("InvalidRequest", 400, "Missing required header for this request: x-amz-content-sha256"),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    INVALID_CONTENT_SHA256: {
        "s3": ("InvalidArgument", 400, None),
        "query": ("IncompleteSignature", 400, None),
        "json": ("IncompleteSignatureException", 400, None),
    },
    INVALID_HEADER: {
        "s3": ("InvalidArgument", 400, None),
        "query": ("InvalidParameterValue", 400, None),
        "json": ("ValidationException", 400, None),
    },
    BODY_TOO_LARGE: {
        "s3": ("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
        "query": ("RequestEntityTooLarge", 413, None),
        "json": ("RequestEntityTooLarge", 413, None),
    },
}

#: Kinds whose fields AWS includes in S3 error bodies; the other families never carry fields.
_S3_FIELD_KINDS = frozenset(
    {
        UNKNOWN_ACCESS_KEY,
        SIGNATURE_MISMATCH,
        CLOCK_SKEW,
        PRESIGN_EXPIRED,
        HEADERS_NOT_SIGNED,
        INVALID_CONTENT_SHA256,
        MALFORMED_AUTH,
    }
)


class SigV4Failure(AuthFailure):
    """An :class:`AuthFailure` with an optional separate message for the query/json families.

    ``message`` is the S3 wording; ``query_message`` (when the text differs, e.g. the
    ``Signature expired: ...`` of a skewed query request) is used for query and json.
    """

    def __init__(
        self,
        kind: str,
        message: str = "",
        status: int = 403,
        *,
        query_message: str | None = None,
        **fields: str,
    ) -> None:
        super().__init__(kind, message, status, **fields)
        self.query_message = query_message


def error_for(failure: AuthFailure, family: Family) -> ServiceError:
    """The error a client of ``family`` gets for ``failure`` (unknown kinds pass through as is)."""
    answers = _TABLE.get(failure.kind)
    if answers is None:
        return ServiceError(failure.code, failure.message, failure.status, fields=dict(failure.fields))
    code, status, message = answers[family]
    if message is None:
        dynamic = failure.query_message if isinstance(failure, SigV4Failure) else None
        message = failure.message if family == "s3" or dynamic is None else dynamic
    if family == "s3":
        fields = dict(failure.fields) if failure.kind in _S3_FIELD_KINDS else {}
        return ServiceError(code, message, status, fields=fields)
    headers = {}
    if family == "json":
        headers["x-amzn-query-error"] = f"{_TABLE[failure.kind]['query'][0]};Sender"
    return ServiceError(code, message, status, headers=headers)


def content_sha256_mismatch(client_hash: str, computed_hash: str) -> ServiceError:
    return ServiceError(
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
        fields={"ClientComputedContentSHA256": client_hash, "S3ComputedContentSHA256": computed_hash},
    )


def bad_digest(checksum_header: str) -> ServiceError:
    return ServiceError(
        "BadDigest", f"The {checksum_header} you specified did not match the calculated checksum.", 400
    )


def incomplete_body(message: str = "The request body terminated unexpectedly") -> ServiceError:
    return ServiceError("IncompleteBody", message, 400)


def invalid_chunk(detail: str) -> ServiceError:
    return ServiceError("InvalidRequest", f"Invalid aws-chunked payload: {detail}.", 400)


def malformed_trailer() -> ServiceError:
    return ServiceError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our "
        "published schema.",
        400,
    )


def chunk_signature_mismatch(access_key_id: str, string_to_sign: str, provided: str) -> ServiceError:
    return ServiceError(
        "SignatureDoesNotMatch",
        S3_SIGNATURE_MESSAGE,
        403,
        fields={
            "AWSAccessKeyId": access_key_id,
            "StringToSign": string_to_sign,
            "SignatureProvided": provided,
        },
    )
