"""SNS: the query protocol, the delivery drainer, and the signing certificate.

Deliveries to SQS go through the SQS provider's :class:`~kumoi.core.delivery.QueueDelivery`
(``wiring.sqs.delivery``), so they wake that provider's long-polling receivers. The drainer is
a long-lived service task: :meth:`SnsProvider.drain` only returns by failing, and the runtime
then starts it again after the task's interval.

The provider is built once per :class:`Deps` (as in ``wiring.sqs``): :func:`delivery` hands it
to S3 event notifications as their :class:`~kumoi.core.delivery.TopicDelivery`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.delivery import TopicDelivery
from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring import sqs
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sns.certificate import CERTIFICATE_OPERATION, CertificateCodec
from kumoi.services.sns.provider import SnsProvider
from kumoi.services.sns.signing import load_or_create

NAME = "sns"
PROVIDER = SnsProvider
#: Pause before the drainer is (re)started.
DRAINER_RESTART_SECONDS = 0.05
#: What an unsigned request may call: the links in delivered messages.
ANONYMOUS = frozenset({"ConfirmSubscription", "Unsubscribe", CERTIFICATE_OPERATION})


async def _certificate(_ctx: RequestContext, _request: dict[str, Any]) -> Mapping[str, Any]:
    """The certificate pseudo operation: the codec renders the PEM file."""
    return {}


_providers: weakref.WeakKeyDictionary[Deps, SnsProvider] = weakref.WeakKeyDictionary()


def _provider(deps: Deps) -> SnsProvider:
    """The one SNS provider of this composition root."""
    existing = _providers.get(deps)
    if existing is None:
        existing = _providers[deps] = SnsProvider(
            deps.meta.sns,
            sqs.delivery(deps),
            deps.clock,
            load_or_create(deps.settings.data_dir / "sns"),
        )
    return existing


def delivery(deps: Deps) -> TopicDelivery:
    """What other services use to publish to topics."""
    return _provider(deps)


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    provider = _provider(deps)
    handlers = {**bind_operations(provider, model.operation_names), CERTIFICATE_OPERATION: _certificate}
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="sns",
            protocols=("query",),
            query_actions=frozenset((*model.operation_names, CERTIFICATE_OPERATION)),
        ),
        codecs={"query": CertificateCodec(QueryCodec(model), provider.certificate)},
        handlers=handlers,
        tasks=(PeriodicTask("sns delivery", DRAINER_RESTART_SECONDS, provider.drain),),
        anonymous_operations=ANONYMOUS,
    )
