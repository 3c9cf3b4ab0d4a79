"""What ListObjects, ListObjectsV2 and ListObjectVersions read and answer alike: the key encoding,
page size, prefix and delimiter of the request, and the grouping fields of the answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kumoi.services.s3 import listing


@dataclass(frozen=True, slots=True)
class ListingRequest:
    encode: Callable[[str], str]
    max_keys: int
    prefix: str
    delimiter: str

    @classmethod
    def of(cls, request: dict[str, Any]) -> ListingRequest:
        """The request's listing arguments; a bad ``EncodingType`` or ``MaxKeys`` is refused
        (in that order, as S3 checks them)."""
        encode = listing.encoder_for(request)
        return cls(
            encode,
            listing.max_keys_of(request),
            str(request.get("Prefix", "")),
            str(request.get("Delimiter", "")),
        )

    def grouping(self, request: dict[str, Any], prefixes: Sequence[str]) -> dict[str, Any]:
        """``CommonPrefixes``, ``Delimiter`` and ``EncodingType`` of the answer, each only where
        S3 sends it."""
        output: dict[str, Any] = {}
        if prefixes:
            output["CommonPrefixes"] = [{"Prefix": self.encode(p)} for p in prefixes]
        if self.delimiter:
            output["Delimiter"] = self.encode(self.delimiter)
        if "EncodingType" in request:
            output["EncodingType"] = request["EncodingType"]
        return output
