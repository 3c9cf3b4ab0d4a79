"""The IAM/STS part of the metadata store contract: identity documents.

IAM state is small (thousands of entities, not millions) and read far more often than written,
so the repository stores each entity as one JSON document keyed by ``(account, kind, name)``:
users, groups, roles, managed policies (with their versions), access keys, instance profiles,
identity providers, and STS sessions (``expires`` set, so expired sessions can be purged). The IAM
service keeps the documents in memory and writes through; the store makes them durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class IamDocument:
    account_id: str
    kind: str
    name: str
    doc: dict[str, Any] = field(default_factory=dict)
    expires: float | None = None


#: ``(account_id, kind, name)`` of a document to delete.
IamKey = tuple[str, str, str]


class IamRepository(Protocol):
    async def load(self, now: float) -> list[IamDocument]:
        """Every document, except those whose ``expires`` is at or before ``now``."""
        ...

    async def apply(self, puts: Sequence[IamDocument], deletes: Sequence[IamKey] = ()) -> None:
        """Insert or replace ``puts`` and delete ``deletes`` in one transaction."""
        ...

    async def purge_expired(self, now: float) -> int:
        """Delete documents whose ``expires`` is at or before ``now``; return how many."""
        ...
