"""The contract between the server and a protocol: decode a request, encode a result or an error.

Values exchanged with providers, by model shape type:

=========================  ==========================================================
string, enum               ``str``
integer, long              ``int``
boolean                    ``bool``
float, double              ``float``
timestamp                  ``datetime`` (timezone-aware UTC); outputs may also give ``float``
                           epoch seconds
blob                       ``bytes``
blob payload (streaming)   input: :class:`~kumoi.core.streams.BodyStream`;
                           output: :data:`~kumoi.core.http.ResponseBody`
structure, map             ``dict`` keyed by member name / map key
list                       ``list``
=========================  ==========================================================

Members that are absent from the request are absent from the dict (never ``None``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, NamedTuple

from kumoi.core.errors import ServiceError
from kumoi.core.http import HttpRequest, HttpResponse


class DecodedRequest(NamedTuple):
    """The operation a request calls (its model name, e.g. ``PutObject``) and its typed input.

    (A named tuple: built for every request, it costs a third of a frozen dataclass.)"""

    operation: str
    params: dict[str, Any]


class ServiceCodec(ABC):
    """Decodes requests and encodes responses of one service in one wire protocol."""

    #: The model's protocol name: ``rest-xml``, ``query`` or ``json``.
    protocol: str

    @abstractmethod
    async def decode(self, request: HttpRequest) -> DecodedRequest:
        """Find the operation and parse the request into its input members.

        Raises :class:`ServiceError` with the protocol's own codes for malformed input and for an
        operation that does not exist in the model.
        """

    @abstractmethod
    def encode(self, operation: str, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        """Serialize a provider's output for ``operation``."""

    @abstractmethod
    def encode_error(
        self, error: ServiceError, request_id: str, operation: str | None = None
    ) -> HttpResponse:
        """Serialize an error in this protocol's format (status, body, headers)."""
