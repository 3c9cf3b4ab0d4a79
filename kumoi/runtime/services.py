"""Which services kumoi serves, and how each is assembled from its model, codecs and provider."""

from __future__ import annotations

from kumoi.core.clock import Clock
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays.sqs_query import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.s3.provider import S3Provider
from kumoi.services.sqs.provider import SqsProvider
from kumoi.services.sts.provider import StsProvider
from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import MetadataStore


#: Every service kumoi knows, with its provider class (None: planned, not served yet).
PROVIDERS: dict[str, type | None] = {
    "s3": S3Provider,
    "sqs": SqsProvider,
    "sns": None,
    "sts": StsProvider,
    "iam": None,
}


def build_services(meta: MetadataStore, blobs: BlobStore, clock: Clock) -> dict[str, ServiceBinding]:
    s3_model = service_model("s3")
    sqs_model = service_model("sqs")
    sts_model = service_model("sts")
    bindings = [
        ServiceBinding(
            routes=ServiceRoutes(name="s3", signing_name="s3", protocols=("rest-xml",)),
            codecs={"rest-xml": RestXmlCodec(s3_model)},
            handlers=bind_operations(S3Provider(meta, blobs, clock), s3_model.operation_names),
        ),
        ServiceBinding(
            routes=ServiceRoutes(
                name="sqs",
                signing_name="sqs",
                protocols=("json", "query"),
                json_target_prefix=sqs_model.metadata["targetPrefix"],
                query_actions=frozenset(sqs_model.operation_names),
            ),
            codecs={"json": JsonCodec(sqs_json_model()), "query": QueryCodec(sqs_query_model())},
            handlers=bind_operations(SqsProvider(meta, clock), sqs_model.operation_names),
        ),
        ServiceBinding(
            routes=ServiceRoutes(
                name="sts",
                signing_name="sts",
                protocols=("query",),
                query_actions=frozenset(sts_model.operation_names),
            ),
            codecs={"query": QueryCodec(sts_model)},
            handlers=bind_operations(StsProvider(), sts_model.operation_names),
        ),
    ]
    return {binding.name: binding for binding in bindings}
