"""SQS: the json protocol of current SDKs and the query protocol of older ones.

The provider is built once per :class:`Deps` and shared: the binding serves it, and
:func:`delivery` hands the same instance to services that send to queues (SNS subscriptions, S3
event notifications), so their deliveries wake the same long-polling receivers. Build order does
not matter: whichever of ``binding`` and ``delivery`` runs first creates the provider.
"""

from __future__ import annotations

import weakref

from kumoi.core.delivery import QueueDelivery
from kumoi.protocol.json import JsonCodec
from kumoi.protocol.overlays.sqs_query import sqs_json_model, sqs_query_model
from kumoi.protocol.query import QueryCodec
from kumoi.runtime.wiring import enforcement
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sqs.provider import RETENTION_SWEEP_SECONDS, SqsProvider

NAME = "sqs"
PROVIDER = SqsProvider

_providers: weakref.WeakKeyDictionary[Deps, SqsProvider] = weakref.WeakKeyDictionary()


def provider(deps: Deps) -> SqsProvider:
    """The one SQS provider of this composition root."""
    existing = _providers.get(deps)
    if existing is None:
        existing = _providers[deps] = SqsProvider(deps.meta, deps.clock, deps.settings.region)
    return existing


def delivery(deps: Deps) -> QueueDelivery:
    """What other services use to send messages to queues (queue policies checked where IAM is
    enforced: :mod:`kumoi.runtime.wiring.enforcement`)."""
    return enforcement.queues(deps, provider(deps))


def binding(deps: Deps) -> ServiceBinding:
    model = sqs_json_model()
    sqs = provider(deps)
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="sqs",
            protocols=("json", "query"),
            json_target_prefix=model.metadata["targetPrefix"],
            query_actions=frozenset(model.operation_names),
        ),
        codecs={"json": JsonCodec(model), "query": QueryCodec(sqs_query_model())},
        handlers=bind_operations(sqs, model.operation_names),
        tasks=(PeriodicTask("sqs retention", RETENTION_SWEEP_SECONDS, sqs.sweep),),
        startup=sqs.start,
    )
