"""STS: the query protocol. Web-identity and SAML federation are unsigned by design (the token or
assertion is the proof), so they are anonymous operations that the provider checks itself."""

from __future__ import annotations

from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring.deps import Deps
from kumoi.runtime.wiring.iam import directory
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sts.provider import StsProvider

NAME = "sts"
PROVIDER = StsProvider
ANONYMOUS_OPERATIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


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
        handlers=bind_operations(StsProvider(directory(deps), deps.clock), model.operation_names),
        anonymous_operations=ANONYMOUS_OPERATIONS,
    )
