"""S3 Control: rest-xml like S3 and signed as ``s3``, told apart by its ``/v20180820/`` paths and
the ``x-amz-account-id`` header (SDKs also put the account id in front of the host name, which
only resolves where ``<account>.<host>`` does; ``Config(inject_host_prefix=False)`` keeps the
host). Only the account's Block Public Access is implemented; a change drops what S3's
authorizer cached of every bucket, so it applies to the next request."""

from __future__ import annotations

from functools import partial

from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.s3.authz_cache import forget
from kumoi.services.s3control.provider import S3ControlProvider

NAME = "s3control"
PROVIDER = S3ControlProvider
#: What every S3 Control request carries (its API version's path, and the account header).
PATH_PREFIX = "/v20180820/"
ACCOUNT_HEADER = "x-amz-account-id"


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    provider = S3ControlProvider(deps.meta, partial(forget, deps.meta))
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="s3",
            protocols=("rest-xml",),
            path_prefix=PATH_PREFIX,
            path_header=ACCOUNT_HEADER,
        ),
        codecs={"rest-xml": RestXmlCodec(model)},
        handlers=bind_operations(provider, model.operation_names),
    )
