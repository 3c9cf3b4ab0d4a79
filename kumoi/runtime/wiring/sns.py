"""SNS: the query protocol, the delivery drainer, and the links in delivered messages.

Deliveries to SQS go through the SQS provider's :class:`~kumoi.core.delivery.QueueDelivery`
(``wiring.sqs.delivery``), so they wake that provider's long-polling receivers. The drainer is
a long-lived service task: :meth:`SnsProvider.drain` only returns by failing, and the runtime
then starts it again after the task's interval. Unsigned GETs of the certificate, subscribe and
unsubscribe links are answered by the service's response hook (see ``services/sns/links.py``).
"""

from __future__ import annotations

from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring import sqs
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sns.envelope import CERTIFICATE_ACTION
from kumoi.services.sns.links import LinkResponder
from kumoi.services.sns.provider import SnsProvider
from kumoi.services.sns.signing import load_or_create

NAME = "sns"
PROVIDER = SnsProvider
#: Pause before the drainer is (re)started.
DRAINER_RESTART_SECONDS = 0.05
#: Operations a caller without a signature may reach: the links in delivered messages.
ANONYMOUS = frozenset({"ConfirmSubscription", "Unsubscribe"})


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    provider = SnsProvider(
        deps.meta.sns,
        sqs.delivery(deps),
        deps.clock,
        load_or_create(deps.settings.data_dir / "sns"),
    )
    codec = QueryCodec(model)
    links = LinkResponder(
        codec,
        {"ConfirmSubscription": provider.confirm_subscription, "Unsubscribe": provider.unsubscribe},
        provider.certificate,
        deps.settings.region,
    )
    return ServiceBinding(
        routes=ServiceRoutes(
            name=NAME,
            signing_name="sns",
            protocols=("query",),
            query_actions=frozenset((*model.operation_names, CERTIFICATE_ACTION)),
        ),
        codecs={"query": codec},
        handlers=bind_operations(provider, model.operation_names),
        tasks=(PeriodicTask("sns delivery", DRAINER_RESTART_SECONDS, provider.drain),),
        anonymous_operations=ANONYMOUS,
        after=links,
    )
