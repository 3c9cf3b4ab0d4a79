"""One module per service: how it is assembled from its model, codecs, provider and tasks.

Each module exposes ``PROVIDER`` (the provider class, for the coverage report) and
``def binding(deps: Deps) -> ServiceBinding``. :func:`build_services` assembles them in order.
"""

from __future__ import annotations

from kumoi.runtime.wiring import enforcement, iam, s3, s3control, sns, sqs, sts
from kumoi.runtime.wiring.deps import Deps
from kumoi.runtime.wiring.enforcement import Gate
from kumoi.server.dispatch import ServiceBinding

#: The served services' wiring modules, in the order they are listed (health, coverage).
SERVED = (s3, sqs, sns, sts, iam, s3control)
#: Services that have a generated API but no provider yet (shown at 0% by the coverage report).
PLANNED: tuple[str, ...] = ()


def build_services(deps: Deps) -> dict[str, ServiceBinding]:
    bindings = [module.binding(deps) for module in SERVED]
    return {binding.name: binding for binding in bindings}


def build_authorizer(deps: Deps) -> Gate:
    """The server's authorizer: IAM policies for the accounts they are enforced for
    (``--enforce-iam``, ``--enforce-iam-accounts``, ``POST /_kumoi/enforcement``), the default
    check for the others. Cheap: the policy engine is built when an account is first enforced."""
    return enforcement.gate(deps)


def provider_classes() -> dict[str, type | None]:
    classes: dict[str, type | None] = {module.NAME: module.PROVIDER for module in SERVED}
    classes.update(dict.fromkeys(PLANNED))
    return classes
