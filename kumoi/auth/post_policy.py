"""Browser POST uploads: the signed policy document and its conditions.

An HTML form that uploads straight to S3 carries a base64 JSON *policy* (an expiration and a list
of conditions) and a signature over that base64 text, made with the same keys as any request:

* SigV4: ``x-amz-algorithm=AWS4-HMAC-SHA256``, ``x-amz-credential=<key>/<date>/<region>/s3/
  aws4_request``, ``x-amz-date`` and ``x-amz-signature = hex(HMAC-SHA256(signing key, policy))``;
* SigV2: ``AWSAccessKeyId`` and ``signature = base64(HMAC-SHA1(secret, policy))``.

:class:`PostPolicyVerifier` checks the signature (keys and signing keys as in :mod:`sigv4`), the
expiration, and every condition against the form's fields: exact matches (``{"key": "v"}`` or
``["eq", "$key", "v"]``), ``["starts-with", "$key", "prefix"]`` and ``["content-length-range",
min, max]`` (returned, since only the upload itself can be measured). As S3 requires, every form
field except ``policy``, the signature, ``file`` and ``x-ignore-*`` fields must be named by a
condition. Failures answer as S3 does: ``AccessDenied`` "Invalid according to Policy: ...".
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kumoi.auth import errors as e
from kumoi.auth import sigv2
from kumoi.auth.canonical import ALGORITHM, SCOPE_TERMINATOR, SigningKeys, sign
from kumoi.auth.credentials import Credential, CredentialProvider, root_credential
from kumoi.auth.sigv4 import check_session_token
from kumoi.core.clock import Clock
from kumoi.core.errors import ServiceError

#: Form fields no condition has to name.
EXEMPT_FIELDS = frozenset({"policy", "x-amz-signature", "signature", "file", "awsaccesskeyid"})
_IGNORED_PREFIX = "x-ignore-"
#: Fields compared case-insensitively on S3 (header-like values).
_CASELESS_PREFIX = "content-"


@dataclass(frozen=True, slots=True)
class LengthRange:
    """The ``content-length-range`` a policy allows for the file."""

    minimum: int
    maximum: int


@dataclass(frozen=True, slots=True)
class VerifiedPost:
    credential: Credential
    length_range: LengthRange | None


def _denied(reason: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {reason}", status=403)


def _invalid_policy(reason: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {reason}", status=400)


def _missing(name: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of "
        "the fields.",
        status=400,
        fields={"ArgumentName": name, "ArgumentValue": ""},
    )


class PostPolicyVerifier:
    """Verifies the policy and signature of browser POST forms."""

    __slots__ = ("_accept_any_key", "_clock", "_credentials", "_default_account", "_keys")

    def __init__(
        self,
        credentials: CredentialProvider,
        clock: Clock,
        *,
        accept_any_key: bool = False,
        default_account: str = "000000000000",
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._accept_any_key = accept_any_key
        self._default_account = default_account
        self._keys = SigningKeys()

    def verify(self, fields: Mapping[str, str], bucket: str) -> VerifiedPost:
        """Check the form ``fields`` (names in any case) posted to ``bucket``."""
        lowered = {name.lower(): value for name, value in fields.items()}
        policy_text = lowered.get("policy")
        if policy_text is None:
            raise ServiceError("AccessDenied", "Access Denied", status=403)
        credential = self._check_signature(lowered, policy_text)
        policy = _decode(policy_text)
        self._check_expiration(policy)
        length_range = check_conditions(policy.get("conditions"), lowered, bucket)
        return VerifiedPost(credential, length_range)

    def _credential(self, access_key_id: str) -> tuple[Credential, bool]:
        credential = self._credentials.lookup(access_key_id)
        if credential is not None:
            return credential, True
        if not self._accept_any_key:
            raise e.SigV4Failure(e.UNKNOWN_ACCESS_KEY, AWSAccessKeyId=access_key_id)
        return root_credential(access_key_id, "", self._default_account), False

    def _check_signature(self, fields: Mapping[str, str], policy_text: str) -> Credential:
        if "x-amz-signature" in fields or "x-amz-credential" in fields:
            for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
                if name not in fields:
                    raise _missing(name)
            if fields["x-amz-algorithm"] != ALGORITHM:
                raise ServiceError(
                    "InvalidArgument", "Unsupported algorithm", status=400,
                    fields={"ArgumentName": "x-amz-algorithm", "ArgumentValue": fields["x-amz-algorithm"]},
                )  # fmt: skip
            parts = fields["x-amz-credential"].split("/")
            if len(parts) != 5 or parts[4] != SCOPE_TERMINATOR or parts[3] != "s3":
                raise ServiceError(
                    "InvalidArgument", "Invalid credential in POST form", status=400,
                    fields={"ArgumentName": "x-amz-credential", "ArgumentValue": fields["x-amz-credential"]},
                )  # fmt: skip
            access_key_id, date, region, service = parts[:4]
            credential, verify = self._credential(access_key_id)
            if verify:
                key = self._keys.get(credential.secret_access_key, date, region, service)
                expected = sign(key, policy_text)
                _compare(expected, fields["x-amz-signature"], access_key_id, policy_text)
        elif "awsaccesskeyid" in fields:
            if "signature" not in fields:
                raise _missing("Signature")
            credential, verify = self._credential(fields["awsaccesskeyid"])
            if verify:
                expected = sigv2.signature(credential.secret_access_key, policy_text)
                _compare(expected, fields["signature"], credential.access_key_id, policy_text)
        else:
            raise _missing("x-amz-signature")
        if verify:
            check_session_token(credential, fields.get("x-amz-security-token"), self._clock.now())
        return credential

    def _check_expiration(self, policy: Mapping[str, Any]) -> None:
        expiration = policy.get("expiration")
        if not isinstance(expiration, str):
            raise _invalid_policy("Policy missing expiration.")
        try:
            when = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid_policy("Invalid 'expiration' value: " + json.dumps(expiration)) from None
        if when.tzinfo is None or when.timestamp() < self._clock.now():
            raise _denied("Policy expired.")


def _compare(expected: str, provided: str, access_key_id: str, policy_text: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogateescape")):
        raise e.SigV4Failure(
            e.SIGNATURE_MISMATCH,
            AWSAccessKeyId=access_key_id,
            StringToSign=policy_text,
            SignatureProvided=provided,
        )


def _decode(policy_text: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(policy_text, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise _invalid_policy("Invalid JSON.")
    return document


def check_conditions(conditions: Any, fields: Mapping[str, str], bucket: str) -> LengthRange | None:
    """Check every condition against the lower-cased ``fields``; return the length range, if any."""
    if not isinstance(conditions, list):
        raise _invalid_policy("Policy missing conditions.")
    values = dict(fields)
    values["bucket"] = bucket
    named: set[str] = {"bucket"}
    length_range: LengthRange | None = None
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid_policy("Invalid Policy condition: " + json.dumps(condition))
            ((name, expected),) = condition.items()
            field = str(name).lower()
            named.add(field)
            if not _equal(field, values.get(field), str(expected)):
                raise _denied(f"Policy Condition failed: {json.dumps(['eq', '$' + str(name), expected])}")
            continue
        if not isinstance(condition, list) or len(condition) != 3:
            raise _invalid_policy("Invalid Policy condition: " + json.dumps(condition))
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            try:
                length_range = LengthRange(int(condition[1]), int(condition[2]))
            except (TypeError, ValueError):
                raise _invalid_policy("Invalid content-length-range condition.") from None
            continue
        target = condition[1]
        if operator not in ("eq", "starts-with") or not isinstance(target, str) or not target.startswith("$"):
            raise _invalid_policy("Invalid Policy condition: " + json.dumps(condition))
        field = target[1:].lower()
        named.add(field)
        actual, expected = values.get(field), str(condition[2])
        ok = _equal(field, actual, expected) if operator == "eq" else _starts_with(field, actual, expected)
        if not ok:
            raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
    extra = [
        name
        for name in fields
        if name not in named and name not in EXEMPT_FIELDS and not name.startswith(_IGNORED_PREFIX)
    ]
    if extra:
        raise _denied("Extra input fields: " + ", ".join(extra))
    return length_range


def _equal(field: str, actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    if field.startswith(_CASELESS_PREFIX):
        return actual.lower() == expected.lower()
    return actual == expected


def _starts_with(field: str, actual: str | None, prefix: str) -> bool:
    if actual is None:
        return prefix == ""
    if field == "content-type":
        # S3 checks each comma-separated content type of the field.
        return all(item.strip().lower().startswith(prefix.lower()) for item in actual.split(","))
    return actual.startswith(prefix)
