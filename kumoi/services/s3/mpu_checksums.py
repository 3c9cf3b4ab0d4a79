"""Whole-object checksums of multipart uploads, as S3 defines them.

* **COMPOSITE** (CRC32, CRC32C, SHA-1, SHA-256): the checksum of the concatenated raw part
  checksums, followed by ``-<number of parts>`` (``"Ngb1yA==-3"``).
* **FULL_OBJECT** (CRC32, CRC32C, CRC64NVME): the CRC of the whole object, obtained by combining
  the parts' CRCs with their lengths (CRC combination: no data is read again).

An upload that names no algorithm gets CRC64NVME FULL_OBJECT, like S3 since 2025.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

from kumoi.core.checksums import CRC_WIDTHS, Checksum
from kumoi.core.errors import ServiceError

COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"
_FULL_OBJECT_ALGORITHMS = frozenset({"crc32", "crc32c", "crc64nvme"})
_COMPOSITE_ALGORITHMS = frozenset({"crc32", "crc32c", "sha1", "sha256"})


def checksum_type(algorithm: str, requested: str | None) -> str:
    """The checksum type of an upload, checked against what the algorithm supports."""
    if requested is None:
        return FULL_OBJECT if algorithm == "crc64nvme" else COMPOSITE
    allowed = _FULL_OBJECT_ALGORITHMS if requested == FULL_OBJECT else _COMPOSITE_ALGORITHMS
    if requested not in (FULL_OBJECT, COMPOSITE) or algorithm not in allowed:
        raise ServiceError(
            "InvalidRequest",
            f"The {algorithm.upper()} checksum algorithm does not support the {requested} checksum type.",
            status=400,
        )
    return requested


def composite(algorithm: str, part_checksums: Sequence[str]) -> str:
    checksum = Checksum(algorithm)
    for value in part_checksums:
        checksum.update(base64.b64decode(value))
    return f"{checksum.b64digest()}-{len(part_checksums)}"


def full_object(algorithm: str, parts: Sequence[tuple[str, int]]) -> str:
    """Combine the parts' base64 CRCs (with their sizes) into the whole object's CRC."""
    combine, width = _combine(algorithm), CRC_WIDTHS[algorithm]
    total = 0
    for index, (value, size) in enumerate(parts):
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if index == 0 else combine(total, crc, size)
    return base64.b64encode(total.to_bytes(width, "big")).decode("ascii")


def _combine(algorithm: str) -> Callable[[int, int, int], int]:
    # awscrt is imported when first needed, not at server start-up (see kumoi.core.checksums).
    from awscrt import checksums as crt

    combine: Callable[[int, int, int], int] = getattr(crt, f"combine_{algorithm}")
    return combine
