"""S3: rest-xml, path-style and virtual-host style; CORS on responses; multipart expiry; the
lifecycle worker and archive restores (``POST /_kumoi/lifecycle`` runs both now); the
master keyring for encryption at rest (:mod:`kumoi.runtime.keys`); event notifications, delivered
through the SQS and SNS providers of this composition root by a long-lived drainer task."""

from __future__ import annotations

from kumoi.auth.post_policy import PostPolicyVerifier
from kumoi.protocol import rest_s3
from kumoi.protocol.restxml import RestXmlCodec
from kumoi.protocol.spec import service_model
from kumoi.runtime.keys import load_keyring
from kumoi.runtime.wiring import sns, sqs
from kumoi.runtime.wiring.deps import Deps
from kumoi.server.dispatch import PeriodicTask, ServiceBinding, bind_operations
from kumoi.server.route import ServiceRoutes
from kumoi.services.s3 import ownership
from kumoi.services.s3.cors import CorsResponseHook
from kumoi.services.s3.event_outbox import EventOutbox
from kumoi.services.s3.provider import S3Provider
from kumoi.services.s3.website_endpoint import WebsiteEndpoint

NAME = "s3"
PROVIDER = S3Provider
#: How often incomplete multipart uploads past their expiry are looked for (when they expire).
UPLOAD_EXPIRY_INTERVAL_SECONDS = 60.0
#: Pause before the event notification drainer is (re)started.
EVENTS_RESTART_SECONDS = 0.05
#: How often due archive restores are completed and expired restored copies removed.
RESTORE_INTERVAL_SECONDS = 1.0


def binding(deps: Deps) -> ServiceBinding:
    model = service_model(NAME)
    post_policy = PostPolicyVerifier(
        deps.credentials,
        deps.clock,
        accept_any_key=deps.settings.accept_any_key,
        default_account=deps.settings.account_id,
    )
    settings = deps.settings
    keyring = load_keyring(settings.data_dir, settings.master_key_file)
    events = EventOutbox(deps.meta.s3, deps.clock, sqs.delivery(deps), sns.delivery(deps))
    provider = S3Provider(
        deps.meta,
        deps.blobs,
        deps.clock,
        post_policy,
        keyring,
        seal_at_rest=not settings.plaintext_at_rest,
        events=events,
    )

    provider.restore_speedup = settings.restore_speedup
    if settings.default_object_ownership not in ownership.VALUES:
        raise ValueError(
            f"--default-object-ownership must be one of {', '.join(sorted(ownership.VALUES))}: "
            f"{settings.default_object_ownership!r}"
        )
    provider.default_ownership = settings.default_object_ownership

    async def lifecycle_pass() -> None:
        await provider.lifecycle.run_pass()

    async def restores() -> None:
        await provider.run_restores()

    async def expire_uploads() -> None:
        await provider.expire_uploads(settings.upload_expiry_seconds)

    tasks = [
        PeriodicTask("s3 event notifications", EVENTS_RESTART_SECONDS, provider.drain_events),
        PeriodicTask("s3 archive restores", RESTORE_INTERVAL_SECONDS, restores),
    ]
    if settings.lifecycle_interval_seconds > 0:
        tasks.append(PeriodicTask("s3 lifecycle", float(settings.lifecycle_interval_seconds), lifecycle_pass))
    if settings.upload_expiry_seconds > 0:
        tasks.append(
            PeriodicTask("s3 multipart upload expiry", UPLOAD_EXPIRY_INTERVAL_SECONDS, expire_uploads)
        )
    operations = (*model.operation_names, *rest_s3.RAW_OPERATIONS)
    return ServiceBinding(
        routes=ServiceRoutes(name=NAME, signing_name="s3", protocols=("rest-xml",)),
        codecs={"rest-xml": RestXmlCodec(model)},
        handlers=bind_operations(provider, operations),
        tasks=tuple(tasks),
        anonymous_operations=frozenset(rest_s3.RAW_OPERATIONS),
        after=CorsResponseHook(deps.meta),
        website=WebsiteEndpoint(deps.meta).handle,
        admin_actions={"lifecycle": provider.run_lifecycle},
    )
