"""Conditional requests as S3 evaluates them (RFC 9110 §13 with S3's precedence).

Reads (GET/HEAD): ``If-Match`` failing → 412; when ``If-Match`` is present and holds,
``If-Unmodified-Since`` is not consulted, otherwise a failing ``If-Unmodified-Since`` → 412.
Then ``If-None-Match`` matching → 304; when ``If-None-Match`` is present and does not match,
``If-Modified-Since`` is not consulted, otherwise an unmodified object → 304. Times compare at
whole seconds (HTTP dates have no fractions). Copy sources follow the same precedence, but every
failure is a 412.

Writes (PutObject, CompleteMultipartUpload, CopyObject): ``If-None-Match: *`` and
``If-Match: <etag>`` become a :class:`~kumoi.storage.meta.contract.PutCondition` that the metadata
store checks inside the write's own transaction, so racing writers cannot both pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.services.s3.base import utc
from kumoi.storage.meta.contract import ObjectRecord, PutCondition

_READ_MEMBERS = ("IfMatch", "IfNoneMatch", "IfModifiedSince", "IfUnmodifiedSince")
_COPY_MEMBERS = (
    "CopySourceIfMatch",
    "CopySourceIfNoneMatch",
    "CopySourceIfModifiedSince",
    "CopySourceIfUnmodifiedSince",
)


def _bare(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def etag_matches(header: str, etag: str) -> bool:
    """Does ``header`` (``*`` or a list of ETags, quoted or not) name ``etag``?"""
    current = _bare(etag)
    return any(item == "*" or _bare(item) == current for item in header.split(","))


def _seconds(record: ObjectRecord) -> int:
    return math.floor(record.last_modified)


def _not_after(record: ObjectRecord, when: datetime) -> bool:
    return _seconds(record) <= when.timestamp()


def check_read(request: Mapping[str, Any], record: ObjectRecord) -> None:
    """Raise 412 ``PreconditionFailed`` or 304 ``NotModified`` as S3 would for a GET/HEAD."""
    if not any(member in request for member in _READ_MEMBERS):
        return
    failure = _evaluate(request, record, _READ_MEMBERS)
    if failure is None:
        return
    condition, modified = failure
    if modified:
        raise errors.precondition_failed(condition)
    raise errors.not_modified(record.etag, utc(record.last_modified))


def check_copy_source(request: Mapping[str, Any], record: ObjectRecord) -> None:
    """Raise 412 when the ``x-amz-copy-source-if-*`` conditions do not hold."""
    if not any(member in request for member in _COPY_MEMBERS):
        return
    failure = _evaluate(request, record, _COPY_MEMBERS)
    if failure is not None:
        raise errors.precondition_failed(failure[0])


def _evaluate(
    request: Mapping[str, Any], record: ObjectRecord, members: tuple[str, str, str, str]
) -> tuple[str, bool] | None:
    """The failing condition's header name and whether it is a 412 (True) or a 304 (False)."""
    if_match, if_none_match, if_modified_since, if_unmodified_since = (request.get(m) for m in members)
    if if_match is not None:
        if not etag_matches(str(if_match), record.etag):
            return "If-Match", True
    elif if_unmodified_since is not None and not _not_after(record, if_unmodified_since):
        return "If-Unmodified-Since", True
    if if_none_match is not None:
        if etag_matches(str(if_none_match), record.etag):
            return "If-None-Match", False
    elif if_modified_since is not None and _not_after(record, if_modified_since):
        return "If-Modified-Since", False
    return None


def write_condition(request: Mapping[str, Any]) -> PutCondition | None:
    """The precondition of a conditional write, or None for an unconditional one."""
    if_none_match = request.get("IfNoneMatch")
    if_match = request.get("IfMatch")
    if if_none_match is None and if_match is None:
        return None
    if if_none_match is not None and if_none_match.strip() != "*":
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            status=501,
            fields={"Header": "If-None-Match"},
        )
    return PutCondition(
        if_match=None if if_match is None else f'"{_bare(if_match)}"' if if_match.strip() != "*" else "*",
        if_none_match=if_none_match is not None,
    )
