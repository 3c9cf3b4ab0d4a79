"""HTTP Range requests as S3 answers them (RFC 9110 byte ranges, a single range only)."""

from __future__ import annotations

from dataclasses import dataclass

from kumoi.core.errors import ServiceError


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve, None for the whole object. S3 ignores syntactically invalid and
    multi-range headers (serving the whole object) and answers 416 ``InvalidRange`` when a valid
    range starts past the end."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0:
                raise _unsatisfiable(header, size)
            if size == 0:
                raise _unsatisfiable(header, size)
            return ByteRange(max(0, size - suffix), size - 1)
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    if end < start:
        return None
    return ByteRange(start, min(end, size - 1))


def _unsatisfiable(header: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        status=416,
        fields={"RangeRequested": header, "ActualObjectSize": str(size)},
    )
