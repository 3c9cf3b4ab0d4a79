"""S3: rest-xml, path-style and virtual-host style."""

from __future__ import annotations

from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.s3.provider import S3Provider

NAME = "s3"
PROVIDER = S3Provider


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    return ServiceBinding(
        routes=ServiceRoutes(name=NAME, signing_name="s3", protocols=("rest-xml",)),
        codecs={"rest-xml": RestXmlCodec(model)},
        handlers=bind_operations(S3Provider(deps.meta, deps.blobs, deps.clock), model.operation_names),
    )
