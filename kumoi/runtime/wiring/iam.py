"""IAM: the query protocol, over the IAM directory that STS and the authorizer share.

The directory (every account's identities in memory, written through to the metadata store) is
created once per metadata store and shared by the IAM and STS providers and the authorizer. Its
documents (users' access keys and live STS sessions included) are loaded by the IAM binding's
start-up hook, before the server listens, so the first request signed with a persisted key is
already recognised.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.iam.directory import IamDirectory
from kumoi.services.iam.provider import IamProvider

if TYPE_CHECKING:
    from kumoi.services.iam.authorizer import IamAuthorizer

NAME = "iam"
PROVIDER = IamProvider
#: How often expired STS sessions are removed from the store and the credential table.
SESSION_PURGE_INTERVAL = 60.0

_DIRECTORIES: weakref.WeakKeyDictionary[object, IamDirectory] = weakref.WeakKeyDictionary()


def directory(deps: Deps) -> IamDirectory:
    """The IAM directory of ``deps``' metadata store (created, and its loading started, once)."""
    found = _DIRECTORIES.get(deps.meta)
    if found is None:
        found = IamDirectory(deps.meta.iam, deps.credentials, deps.clock)
        _DIRECTORIES[deps.meta] = found
    return found


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    identities = directory(deps)
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="iam",
            protocols=("query",),
            query_actions=frozenset(model.operation_names),
        ),
        codecs={"query": QueryCodec(model)},
        handlers=bind_operations(IamProvider(identities, deps.clock), model.operation_names),
        tasks=(PeriodicTask("expired STS sessions", SESSION_PURGE_INTERVAL, identities.purge_expired),),
        startup=identities.load,
    )


def authorizer(deps: Deps, enforced: Callable[[str], bool]) -> IamAuthorizer:
    """The policy-enforcing authorizer for the accounts ``enforced`` names, with each served
    service's authorization map. Imported and built only when an account is enforced."""
    from kumoi.runtime.wiring import sns
    from kumoi.services.iam.authorizer import IamAuthorizer, ServiceAuthz
    from kumoi.services.iam.authz import IamAuthz
    from kumoi.services.s3.authz import S3Authz
    from kumoi.services.s3control.authz import S3ControlAuthz
    from kumoi.services.sns.authz import SnsAuthz
    from kumoi.services.sqs.authz import SqsAuthz
    from kumoi.services.sts.authz import StsAuthz

    identities = directory(deps)
    services: dict[str, ServiceAuthz] = {
        "s3": S3Authz(deps.meta),
        "sqs": SqsAuthz(deps.meta),
        "sns": SnsAuthz(sns.topic_reader(deps)),
        "iam": IamAuthz(identities),
        "sts": StsAuthz(identities),
        "s3control": S3ControlAuthz(),
    }
    return IamAuthorizer(identities, deps.clock, services, enforced)
