"""GetObjectAttributes: an object's (or a version's) ETag, checksum, parts, storage class and size
without its body, only the attributes asked for."""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.s3 import errors, versioning
from kumoi.services.s3.attributes import checksum_members
from kumoi.services.s3.base import S3Base, utc

MAX_PARTS = 1000
_ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})


class ObjectAttributesOperations(S3Base):
    async def get_object_attributes(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        wanted = set(request.get("ObjectAttributes") or [])
        if not wanted or not wanted <= _ATTRIBUTES:
            raise errors.invalid_argument(
                "Invalid attribute name specified.", "x-amz-object-attributes", ",".join(sorted(wanted))
            )
        bucket, record = await self._bucket_and_version(
            ctx, request["Bucket"], request["Key"], request.get("VersionId")
        )
        self.unseal(record, request)
        output: dict[str, Any] = {"LastModified": utc(record.last_modified)}
        output.update(versioning.shown_id(bucket, record.version_id))
        if "ETag" in wanted:
            output["ETag"] = record.etag.strip('"')
        if "Checksum" in wanted:
            members = checksum_members(record.attrs)
            if members:
                output["Checksum"] = members
        if "StorageClass" in wanted:
            output["StorageClass"] = record.attrs.get("StorageClass", "STANDARD")
        if "ObjectSize" in wanted:
            output["ObjectSize"] = record.size
        if "ObjectParts" in wanted and record.manifest is not None:
            marker = int(request.get("PartNumberMarker", 0))
            limit = min(int(request.get("MaxParts", MAX_PARTS)), MAX_PARTS)
            numbered = list(enumerate(record.manifest, start=1))[marker : marker + limit]
            truncated = marker + limit < len(record.manifest)
            output["ObjectParts"] = {
                "TotalPartsCount": len(record.manifest),
                "PartNumberMarker": marker,
                "NextPartNumberMarker": numbered[-1][0] if numbered else marker,
                "MaxParts": limit,
                "IsTruncated": truncated,
                "Parts": [{"PartNumber": number, "Size": part.size} for number, part in numbered],
            }
        return output
