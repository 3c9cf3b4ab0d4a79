"""The hand-written ``<Contents>`` writer says exactly what the compiled writer says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.parsers import RestXMLParser

from kumoi.protocol import restxml
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model

MODEL = service_model("s3")
FAST = RestXmlCodec(MODEL)
ENTRIES: list[dict[str, Any]] = [
    {
        "Key": "a<&>\r b",
        "LastModified": 1_700_000_000.25,
        "ETag": '"e1"',
        "Size": 3,
        "StorageClass": "STANDARD",
    },
    {
        "Key": "dir/🌸",
        "LastModified": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "ETag": '"e2-3"',
        "Size": 10**12,
        "StorageClass": "GLACIER",
        "ChecksumAlgorithm": ["CRC64NVME"],
        "ChecksumType": "FULL_OBJECT",
        "Owner": {"ID": "abc", "DisplayName": "me & you"},
    },
    {"Key": "restored", "Size": 1, "RestoreStatus": {"IsRestoreInProgress": True}},
]


def _parse(operation: str, body: bytes) -> dict[str, Any]:
    shape = botocore.session.get_session().get_service_model("s3").operation_model(operation).output_shape
    response = {"status_code": 200, "headers": {}, "body": body}
    parsed: dict[str, Any] = RestXMLParser().parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


@pytest.mark.parametrize("operation", ["ListObjects", "ListObjectsV2"])
def test_fast_contents_match_the_compiled_writer(operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    output = {"Name": "b", "Contents": ENTRIES, "IsTruncated": False}
    fast = FAST.encode(operation, output, "R").body
    monkeypatch.setattr(restxml.rest_s3, "WRITER_OVERRIDES", {})
    slow = RestXmlCodec(MODEL).encode(operation, output, "R").body
    assert isinstance(fast, bytes) and isinstance(slow, bytes)
    assert fast != slow or fast.count(b"<Contents>") == 3
    assert _parse(operation, fast) == _parse(operation, slow)
    assert b"<Key>a&lt;&amp;&gt;&#xD; b</Key>" in fast
    assert b"<LastModified>2023-11-14T22:13:20.250Z</LastModified>" in fast
