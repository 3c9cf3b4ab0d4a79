"""Server-side encryption: what a write asks for, what a read must present, the headers S3 returns.

Choice (current AWS behaviour): every new object is encrypted. A write without encryption headers
takes its bucket's default encryption, which is SSE-S3 (``AES256``) unless
PutBucketEncryption says otherwise, and every write, GET and HEAD returns
``x-amz-server-side-encryption``. SSE-S3 and SSE-KMS (``aws:kms``, ``aws:kms:dsse``) both seal
the data under a data key wrapped by kumoi's master key; SSE-KMS also records and returns the key
id (the account's ``alias/aws/s3`` when none is given) and ``BucketKeyEnabled``. SSE-C seals the
data under a data key wrapped by the customer's key, which is never stored: only a salted HMAC
recognises it again. Objects written before encryption existed have no ``Encryption`` attribute
and are read as they are.

The stored attribute (``ObjectRecord.attrs["Encryption"]``, and an upload's ``Object`` attrs) is
``{"SSE": ..., "Sealed": bool, "KMSKeyId"?, "BucketKeyEnabled"?, "KeyMD5"?, "KeyCheck"?}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.storage.blob import crypto

AES256 = "AES256"
KMS = "aws:kms"
KMS_DSSE = "aws:kms:dsse"
ALGORITHMS = (AES256, KMS, KMS_DSSE)
#: SSE-C algorithm, the only one S3 accepts.
CUSTOMER_ALGORITHM = "AES256"
ATTR = "Encryption"
_NOT_APPLICABLE = "The encryption parameters are not applicable to this object."
_STORED_ENCRYPTED = (
    "The object was stored using a form of Server Side Encryption. The correct parameters must be "
    "provided to retrieve the object."
)


@dataclass(frozen=True, slots=True)
class CustomerKey:
    """A validated SSE-C key from a request."""

    key: bytes
    md5: str


def customer_key(request: Mapping[str, Any], prefix: str = "") -> CustomerKey | None:
    """The SSE-C key of a request (``prefix`` ``CopySource`` for the copy source), validated as S3 does."""
    algorithm = request.get(f"{prefix}SSECustomerAlgorithm")
    encoded = request.get(f"{prefix}SSECustomerKey")
    given_md5 = request.get(f"{prefix}SSECustomerKeyMD5")
    if algorithm is None and encoded is None and given_md5 is None:
        return None
    if algorithm is None:
        raise errors.invalid_request(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid "
            "encryption algorithm."
        )
    if algorithm != CUSTOMER_ALGORITHM:
        raise ServiceError(
            "InvalidEncryptionAlgorithmError",
            "The encryption request you specified is not valid. The valid value is AES256.",
            fields={"ArgumentName": "x-amz-server-side-encryption", "ArgumentValue": str(algorithm)},
        )
    if encoded is None:
        raise errors.invalid_request(
            "Requests specifying Server Side Encryption with Customer provided keys must provide an "
            "appropriate secret key."
        )
    if given_md5 is None:
        raise errors.invalid_request(
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client "
            "calculated MD5 of the secret key."
        )
    try:
        key = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != crypto.KEY_SIZE:
        raise errors.invalid_argument(
            "The secret key was invalid for the specified algorithm.",
            "x-amz-server-side-encryption",
            "null",
        )
    md5 = base64.b64encode(hashlib.md5(key, usedforsecurity=False).digest()).decode()
    if md5 != given_md5:
        raise errors.invalid_argument(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            "x-amz-server-side-encryption",
            "null",
        )
    return CustomerKey(key, md5)


@dataclass(frozen=True, slots=True)
class WriteEncryption:
    """How a write encrypts: the attribute to store and, for SSE-C, the key."""

    attr: dict[str, Any]
    customer: CustomerKey | None = None


def for_write(
    request: Mapping[str, Any],
    bucket_config: Mapping[str, Any],
    region: str,
    account: str,
    *,
    sealing: bool,
) -> WriteEncryption:
    """The encryption of a new object from its request and its bucket's default (see module doc)."""
    customer = customer_key(request)
    algorithm = request.get("ServerSideEncryption")
    if customer is not None:
        if algorithm is not None:
            raise errors.invalid_argument(
                "Server Side Encryption with Customer provided key is incompatible with the encryption "
                "method specified",
                "x-amz-server-side-encryption",
                str(algorithm),
            )
        check = crypto.key_check(customer.key)
        attr = {"SSE": AES256, "Sealed": True, "KeyMD5": customer.md5, "KeyCheck": check}
        return WriteEncryption(attr, customer)
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise errors.invalid_argument(
            "The encryption method specified is not supported", "x-amz-server-side-encryption", str(algorithm)
        )
    key_id = request.get("SSEKMSKeyId")
    if key_id is not None and algorithm not in (KMS, KMS_DSSE):
        raise errors.invalid_argument(
            "Server Side Encryption with AWS KMS managed key requires HTTP header "
            "x-amz-server-side-encryption : aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id",
            str(key_id),
        )
    default = default_rule(bucket_config)
    if algorithm is None:
        algorithm = default["SSEAlgorithm"]
        key_id = default.get("KMSMasterKeyID")
    attr = {"SSE": algorithm, "Sealed": sealing}
    if algorithm in (KMS, KMS_DSSE):
        attr["KMSKeyId"] = kms_key_arn(key_id, region, account)
        bucket_key = request.get("BucketKeyEnabled", default.get("BucketKeyEnabled", False))
        if bucket_key:
            attr["BucketKeyEnabled"] = True
    return WriteEncryption(attr)


def kms_key_arn(key_id: str | None, region: str, account: str) -> str:
    """The ARN S3 shows for a KMS key given as an ARN, a key id or an alias (default: aws/s3)."""
    if not key_id:
        return f"arn:aws:kms:{region}:{account}:alias/aws/s3"
    if key_id.startswith("arn:"):
        return key_id
    if key_id.startswith("alias/"):
        return f"arn:aws:kms:{region}:{account}:{key_id}"
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def default_rule(bucket_config: Mapping[str, Any]) -> dict[str, Any]:
    """The bucket's default encryption: its configured rule, else SSE-S3."""
    rule: dict[str, Any] | None = bucket_config.get(ATTR)
    return rule if rule is not None else {"SSEAlgorithm": AES256}


def output_members(attr: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``x-amz-server-side-encryption*`` output members of an object or upload."""
    if not attr:
        return {}
    if "KeyMD5" in attr:
        return {"SSECustomerAlgorithm": CUSTOMER_ALGORITHM, "SSECustomerKeyMD5": attr["KeyMD5"]}
    members: dict[str, Any] = {"ServerSideEncryption": attr["SSE"]}
    if "KMSKeyId" in attr:
        members["SSEKMSKeyId"] = attr["KMSKeyId"]
    if attr.get("BucketKeyEnabled"):
        members["BucketKeyEnabled"] = True
    return members


def key_for_read(
    attr: Mapping[str, Any] | None, request: Mapping[str, Any], prefix: str = ""
) -> bytes | None:
    """The SSE-C key a read of an object with ``attr`` must present (``None`` for other objects),
    failing as S3 does when it is missing, wrong, or given for an object without SSE-C."""
    given = customer_key(request, prefix)
    if attr is None or "KeyCheck" not in attr:
        if given is not None:
            raise errors.invalid_request(_NOT_APPLICABLE)
        return None
    if given is None:
        raise errors.invalid_request(_STORED_ENCRYPTED)
    if not crypto.key_matches(given.key, attr["KeyCheck"]):
        raise ServiceError(
            "AccessDenied",
            "Requests specifying Server Side Encryption with Customer provided keys must provide the correct "
            "secret key.",
            status=403,
        )
    return given.key


def same_sealing(source: Mapping[str, Any] | None, target: WriteEncryption) -> bool:
    """Whether bytes sealed as ``source`` can serve an object encrypted as ``target`` unchanged."""
    source_customer = bool(source and "KeyCheck" in source)
    if source_customer or target.customer is not None:
        return False
    return bool(source and source.get("Sealed")) == bool(target.attr.get("Sealed"))
