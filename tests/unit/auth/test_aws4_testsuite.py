"""The AWS SigV4 test suite (from botocore's sdist): every vector verifies, and a one-bit change of
its signature is rejected. The canonical request we build must equal the suite's ``.creq``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kumoi.auth import errors as e
from kumoi.auth.credentials import Credential, StaticCredentials
from kumoi.auth.sigv4 import SigV4Verifier
from kumoi.core.http import Headers, HttpRequest
from kumoi.core.streams import BytesBody
from tests.support.botocore_sdist import botocore_tests_dir
from tests.unit.auth.auth_testkit import FixedClock, run

SUITE_ACCESS_KEY = "AKIDEXAMPLE"
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TIME = 1440938160.0  # 2015-08-30T12:36:00Z
SUITE_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeo"
    "IYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp"
    "75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9"
    "KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)


def _vectors() -> list[Path]:
    suite = botocore_tests_dir() / "auth" / "aws4_testsuite"
    return sorted(path.parent for path in suite.rglob("*.req"))


def _parse(req_file: Path) -> tuple[str, str, str, Headers, bytes]:
    text = req_file.read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    path, _, query = target.partition("?")
    fields: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += "\n" + line
        else:
            name, _, value = line.partition(":")
            fields.append([name, value])
    return method, path, query, Headers((n, v) for n, v in fields), body.encode()


def _verifier(token: str | None) -> SigV4Verifier:
    credential = Credential(
        SUITE_ACCESS_KEY,
        SUITE_SECRET,
        "123456789012",
        "arn:aws:iam::123456789012:root",
        "123456789012",
        session_token=token,
    )
    return SigV4Verifier(StaticCredentials([credential]), FixedClock(SUITE_TIME))


def _request(vector: Path, authorization: str) -> tuple[HttpRequest, str | None]:
    method, path, query, headers, body = _parse(vector / f"{vector.name}.req")
    creq = (vector / f"{vector.name}.creq").read_text(encoding="utf-8")
    for line in creq.split("\n"):
        # get-vanilla-with-session-token: the signer adds the token header the .req lacks.
        if line.startswith("x-amz-security-token:") and "x-amz-security-token" not in headers:
            headers.add("X-Amz-Security-Token", line.partition(":")[2])
    headers.add("Authorization", authorization)
    return HttpRequest(method, path, query, headers, BytesBody(body)), headers.get("x-amz-security-token")


@pytest.mark.parametrize("vector", _vectors(), ids=lambda path: path.name)
def test_vector_signature_is_accepted(vector: Path) -> None:
    authorization = (vector / f"{vector.name}.authz").read_text().strip()
    request, token = _request(vector, authorization)
    result = run(_verifier(token).authenticate(request, s3=False))
    assert result.method == "header"
    assert (result.region, result.service) == ("us-east-1", "service")
    assert result.caller.account_id == "123456789012"


@pytest.mark.parametrize("vector", _vectors(), ids=lambda path: path.name)
def test_vector_with_one_bit_changed_is_rejected_and_canonical_request_matches(vector: Path) -> None:
    authorization = (vector / f"{vector.name}.authz").read_text().strip()
    signature = authorization.rsplit("=", 1)[1]
    flipped = signature[:-1] + format(int(signature[-1], 16) ^ 1, "x")
    request, token = _request(vector, authorization[: -len(signature)] + flipped)
    with pytest.raises(e.SigV4Failure) as caught:
        run(_verifier(token).authenticate(request, s3=False))
    failure = caught.value
    assert failure.kind == e.SIGNATURE_MISMATCH
    expected_creq = (vector / f"{vector.name}.creq").read_text(encoding="utf-8")
    assert failure.fields["CanonicalRequest"] == expected_creq
    expected_sts = (vector / f"{vector.name}.sts").read_text(encoding="utf-8")
    assert failure.fields["StringToSign"] == expected_sts
    assert hashlib.sha256(expected_creq.encode()).hexdigest() in failure.fields["StringToSign"]
