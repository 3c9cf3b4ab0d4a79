"""What the composition root hands to every service's wiring."""

from __future__ import annotations

from dataclasses import dataclass

from kumoi.auth.credentials import StaticCredentials
from kumoi.config import Settings
from kumoi.core.clock import Clock
from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import MetadataStore


@dataclass(frozen=True)
class Deps:
    settings: Settings
    clock: Clock
    meta: MetadataStore
    blobs: BlobStore
    credentials: StaticCredentials
