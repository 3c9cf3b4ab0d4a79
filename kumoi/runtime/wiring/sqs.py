"""SQS: the json protocol of current SDKs and the query protocol of older ones."""

from __future__ import annotations

from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays.sqs_query import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sqs.provider import SqsProvider

NAME = "sqs"
PROVIDER = SqsProvider


def binding(deps: Deps) -> ServiceBinding:
    model = sqs_json_model()
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="sqs",
            protocols=("json", "query"),
            json_target_prefix=model.metadata["targetPrefix"],
            query_actions=frozenset(model.operation_names),
        ),
        codecs={"json": JsonCodec(model), "query": QueryCodec(sqs_query_model())},
        handlers=bind_operations(SqsProvider(deps.meta, deps.clock), model.operation_names),
    )
