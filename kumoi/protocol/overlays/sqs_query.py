"""SQS over the query protocol, and SQS's legacy error codes, as overlays of botocore's model.

Until late 2023 SQS spoke only the query protocol; current botocore models it as awsJson1_0
(``awsQueryCompatible``) and has dropped the query traits. Older SDKs and aws CLI releases still
send ``Action=SendMessage&QueueUrl=...&MessageAttribute.1.Name=...`` and expect XML with flattened
``<Message>``, ``<Attribute><Name/><Value/></Attribute>`` and ``<QueueUrl>`` elements. The query
API reference of SQS (and the last query-era botocore model, 1.31.x) describe that wire format;
the json model keeps the ``flattened`` flags, so the overlay only has to restore names:

* every flattened list names its items after the list (``QueueUrlList`` → ``<QueueUrl>``,
  ``MessageList`` → ``<Message>``, ``AttributeNameList`` → ``AttributeName.N``);
* ``StringList``/``BinaryList`` items are ``StringListValue``/``BinaryListValue``;
* flattened maps use ``Name``/``Value`` entries (``Key``/``Value`` for tags);
* a structure member holding a flattened map, or a list flattened only at that member, is named in
  the singular
  (``Attributes`` → ``Attribute.N``, ``MessageAttributes`` → ``MessageAttribute.N``,
  ``tags`` → ``Tag.N``, ``StringListValues`` → ``StringListValue.N``);
* every output is wrapped in ``<{Operation}Result>``; the namespace is SQS's 2012-11-05 one.

The legacy error codes (``QueueDoesNotExist`` → ``AWS.SimpleQueueService.NonExistentQueue``) come
from SQS's Smithy model (its ``awsQueryError`` traits), which botocore's json model does not carry.
Both models get them as the usual ``error`` trait, which the codecs read.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kumoi.protocol.spec import ServiceModel, model_data, service_model, without_documentation

XML_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

#: Shape name → (legacy query code, HTTP status), from SQS's ``awsQueryError`` traits. Errors not
#: listed (InvalidAttributeName, InvalidMessageContents, ...) use their shape name and 400.
LEGACY_ERRORS: dict[str, tuple[str, int]] = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidAddress": ("InvalidAddress", 404),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "InvalidSecurity": ("InvalidSecurity", 403),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "OverLimit": ("OverLimit", 403),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
    "RequestThrottled": ("RequestThrottled", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
}

#: Item names that do not follow "the list's name without ``List``". ``MessageSystemAttributeNames``
#: appeared after SQS moved to JSON, so no query client sends it; it keeps a name of its own so that
#: it cannot collide with ``AttributeName.N`` of the older ``AttributeNames``.
_ITEM_NAMES = {
    "StringList": "StringListValue",
    "BinaryList": "BinaryListValue",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
}


@lru_cache(maxsize=1)
def sqs_query_model() -> ServiceModel:
    """SQS as the query protocol describes it (what older SDKs send and expect)."""
    data = _with_legacy_errors()
    metadata = data["metadata"]
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        metadata.pop(key, None)
    metadata["protocol"] = "query"
    metadata["protocols"] = ["query"]
    metadata["xmlNamespace"] = XML_NAMESPACE
    for name, operation in data["operations"].items():
        if "output" in operation:
            operation["output"]["resultWrapper"] = f"{name}Result"
    shapes: dict[str, Any] = data["shapes"]
    for name, shape in shapes.items():
        if shape["type"] == "list" and (shape.get("flattened") or name in _ITEM_NAMES):
            shape["member"]["locationName"] = _ITEM_NAMES.get(name, name.removesuffix("List"))
        elif shape["type"] == "map" and shape.get("flattened"):
            shape["key"]["locationName"] = "Key" if name == "TagMap" else "Name"
            shape["value"]["locationName"] = "Value"
        elif shape["type"] == "structure":
            for member_name, member in shape["members"].items():
                target = shapes[member["shape"]]
                # A flattened map, or a list flattened only where it is used (StringListValues).
                if (target.get("flattened") and target["type"] == "map") or (
                    member.get("flattened") and not target.get("flattened")
                ):
                    member["locationName"] = _singular(member_name)
    return service_model("sqs", data)


@lru_cache(maxsize=1)
def sqs_json_model() -> ServiceModel:
    """SQS's json model with the legacy error codes its ``x-amzn-query-error`` header needs."""
    return service_model("sqs", _with_legacy_errors())


def _with_legacy_errors() -> dict[str, Any]:
    data = without_documentation(model_data("sqs"))
    for name, (code, status) in LEGACY_ERRORS.items():
        shape = data["shapes"].get(name)
        if shape is not None:
            shape["error"] = {"code": code, "httpStatusCode": status, "senderFault": True}
    return data


def _singular(member: str) -> str:
    """``Attributes`` → ``Attribute``, ``tags`` → ``Tag``, ``StringListValues`` → ``StringListValue``."""
    return member[:1].upper() + member[1:].removesuffix("s")
