"""S3's error answers, in one place: code, status, message and the extra fields S3 sends.

Messages are the ones S3 itself writes, so clients that show them (the aws CLI) read the same.
"""

from __future__ import annotations

from datetime import datetime

from kumoi.core.errors import ServiceError
from kumoi.protocol.rest_values import format_http_date


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucket", "The specified bucket does not exist", status=404, fields={"BucketName": name}
    )


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", status=404, fields={"Key": key})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
        "been aborted or completed.",
        status=404,
        fields={"UploadId": upload_id},
    )


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", status=403)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        status=412,
        fields={"Condition": condition},
    )


def not_modified(etag: str, last_modified: datetime) -> ServiceError:
    """A 304: no body; the ETag and Last-Modified headers still tell the client what it has."""
    return ServiceError(
        "NotModified",
        "Not Modified",
        status=304,
        headers={"ETag": etag, "Last-Modified": format_http_date(last_modified)},
    )


def conditional_conflict() -> ServiceError:
    return ServiceError(
        "ConditionalRequestConflict",
        "A conflicting conditional operation is currently in progress against this resource. "
        "Please try again.",
        status=409,
    )


def invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument", message, status=400, fields={"ArgumentName": name, "ArgumentValue": value}
    )


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, status=400)


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        status=400,
    )


def incomplete_body(message: str) -> ServiceError:
    return ServiceError("IncompleteBody", message, status=400)


def entity_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        status=400,
        fields={"ProposedSize": str(size), "MaxSizeAllowed": str(limit)},
    )


def no_bucket_configuration(code: str, message: str, bucket: str) -> ServiceError:
    """The 404 a Get of a bucket subresource (CORS, tags, a policy, a lock configuration...)
    answers when the bucket has none: each has its own code and message, and names the bucket."""
    return ServiceError(code, message, status=404, fields={"BucketName": bucket})
