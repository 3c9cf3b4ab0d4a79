"""Sealed objects streamed from worker threads straight to the socket: parallel ranged GETs as
download tools make them, and clients that walk away mid-body while others keep reading."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MIB = 1024 * 1024
PART = 5 * MIB


def upload_parts(s3: Any, bucket: str, key: str, data: bytes) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, at in enumerate(range(0, len(data), PART), 1):
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data[at : at + PART]
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def test_parallel_ranged_gets_of_a_sealed_multipart_object(s3: Any, bucket: str) -> None:
    data = os.urandom(4 * PART + 12345)
    upload_parts(s3, bucket, "big", data)
    # Ranges on part boundaries (what s5cmd and the aws CLI ask for) and across them.
    ranges = [(at, min(at + PART, len(data)) - 1) for at in range(0, len(data), PART)]
    ranges += [(PART - 100, 2 * PART + 99), (7, len(data) - 8)]

    def fetch(span: tuple[int, int]) -> bytes:
        body: bytes = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={span[0]}-{span[1]}")[
            "Body"
        ].read()
        return body

    with ThreadPoolExecutor(len(ranges)) as pool:
        bodies = list(pool.map(fetch, ranges))
    for (first, last), body in zip(ranges, bodies, strict=True):
        assert hashlib.sha256(body).digest() == hashlib.sha256(data[first : last + 1]).digest()


def test_clients_leaving_mid_body_do_not_disturb_the_others(s3: Any, bucket: str) -> None:
    data = os.urandom(3 * PART)
    upload_parts(s3, bucket, "leave", data)
    url = urllib.parse.urlsplit(
        s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "leave"})
    )
    request = f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode()
    for _ in range(5):
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sock.sendall(request)
            received = 0
            while received < MIB:
                chunk = sock.recv(64 * 1024)
                assert chunk
                received += len(chunk)
            # An abortive close (RST) while the server is still sending.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert s3.get_object(Bucket=bucket, Key="leave")["Body"].read() == data
