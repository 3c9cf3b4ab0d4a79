"""botocore's service models: the specification every codec is compiled from.

The models ship in the botocore wheel (``botocore/data/<service>/<version>/service-2.json.gz``).
Overlays (small, named changes with the reason they exist) are applied by the protocol that
needs them, never by editing the model.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore
import botocore.loaders
import botocore.model


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@cache
def model_data(service: str) -> dict[str, Any]:
    """The raw model document of ``service`` (as botocore names it: ``s3``, ``sqs``, ...)."""
    data: dict[str, Any] = _loader().load_service_model(service, "service-2")
    return data


def service_model(service: str, data: dict[str, Any] | None = None) -> botocore.model.ServiceModel:
    """A botocore :class:`ServiceModel` for ``service``, optionally from an overlaid document."""
    return botocore.model.ServiceModel(
        data if data is not None else model_data(service), service_name=service
    )


def botocore_version() -> str:
    return str(botocore.__version__)
