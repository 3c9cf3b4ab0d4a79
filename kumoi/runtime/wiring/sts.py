"""STS: the query protocol."""

from __future__ import annotations

from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sts.provider import StsProvider

NAME = "sts"
PROVIDER = StsProvider


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="sts",
            protocols=("query",),
            query_actions=frozenset(model.operation_names),
        ),
        codecs={"query": QueryCodec(model)},
        handlers=bind_operations(StsProvider(), model.operation_names),
    )
