"""SNS: the query protocol, the delivery drainer, and the signing certificate.

Deliveries to SQS go through the SQS provider's :class:`~kumoi.core.delivery.QueueDelivery`
(``wiring.sqs.delivery``), so they wake that provider's long-polling receivers. The drainer is
a long-lived service task: :meth:`SnsProvider.drain` only returns by failing, and the runtime
then starts it again after the task's interval.

The provider is built once per :class:`Deps` (as in ``wiring.sqs``): :func:`delivery` hands it
to S3 event notifications as their :class:`~kumoi.core.delivery.TopicDelivery`.

The signing key is not touched at start-up: the first SNS request starts reading (or, in a new
data directory, creating) it in a worker thread (see :mod:`kumoi.services.sns.signing`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kumoi.core.context import RequestContext
from kumoi.core.delivery import TopicDelivery
from kumoi.protocol.query import QueryCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.wiring import enforcement, sqs
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import OperationHandler, PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.sns.certificate import CERTIFICATE_OPERATION, CertificateCodec
from kumoi.services.sns.provider import SnsProvider
from kumoi.services.sns.signing import Signer, load_or_create

if TYPE_CHECKING:
    from kumoi.services.sns.authz import TopicReader

log = logging.getLogger("kumoi.sns")

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
_signers: weakref.WeakKeyDictionary[Deps, Signer] = weakref.WeakKeyDictionary()


def _signer(deps: Deps) -> Signer:
    """The signing key of this composition root (read or created on first use)."""
    existing = _signers.get(deps)
    if existing is None:
        existing = _signers[deps] = load_or_create(deps.settings.data_dir / "sns")
    return existing


def _provider(deps: Deps) -> SnsProvider:
    """The one SNS provider of this composition root."""
    existing = _providers.get(deps)
    if existing is None:
        existing = _providers[deps] = SnsProvider(
            deps.meta.sns, sqs.delivery(deps), deps.clock, _signer(deps)
        )
    return existing


def delivery(deps: Deps) -> TopicDelivery:
    """What other services use to publish to topics (topic policies checked where IAM is
    enforced: :mod:`kumoi.runtime.wiring.enforcement`)."""
    return enforcement.topics(deps, _provider(deps))


def topic_reader(deps: Deps) -> TopicReader:
    """How the authorizer reads topic policies: from the provider's own topics."""
    return _provider(deps).find_topic


def _preparing_key(handlers: dict[str, OperationHandler], signer: Signer) -> dict[str, OperationHandler]:
    """``handlers``, the first of which to be called starts reading or creating the signing key
    in a worker thread. The key is then usually ready before the first message is signed (a
    new key takes 50-300 ms), and a server that serves no SNS request never loads it."""
    started: list[asyncio.Future[None]] = []

    def preparing(handler: OperationHandler) -> OperationHandler:
        async def call(ctx: RequestContext, request: dict[str, Any]) -> Mapping[str, Any] | None:
            if not started:
                started.append(asyncio.get_running_loop().run_in_executor(None, signer.prepare))
                started[0].add_done_callback(_report_key_failure)
            return await handler(ctx, request)

        return call

    return {name: preparing(handler) for name, handler in handlers.items()}


def _report_key_failure(future: asyncio.Future[None]) -> None:
    # Signing retries on first use and fails the request that needs it; say why here too.
    if not future.cancelled() and future.exception() is not None:
        log.error("could not read or create the SNS signing key", exc_info=future.exception())


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    provider = _provider(deps)
    handlers = _preparing_key(
        {**bind_operations(provider, model.operation_names), CERTIFICATE_OPERATION: _certificate},
        _signer(deps),
    )
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
