"""The SQLite metadata store: the engine, the schema and the repositories put together."""

from __future__ import annotations

from pathlib import Path

from kumoi.core.clock import Clock
from kumoi.storage.faults import NO_FAULTS, FaultPlan
from kumoi.storage.meta.contract import S3Repository, SqsRepository
from kumoi.storage.meta.contract_iam import IamRepository
from kumoi.storage.meta.contract_s3_archive import S3ArchiveRepository
from kumoi.storage.meta.contract_sns import SnsRepository
from kumoi.storage.meta.sqlite.blobs import SqliteBlobLedger
from kumoi.storage.meta.sqlite.engine import READERS, Database
from kumoi.storage.meta.sqlite.iam import SqliteIamRepository
from kumoi.storage.meta.sqlite.s3 import SqliteS3Repository
from kumoi.storage.meta.sqlite.s3_archive import SqliteS3ArchiveRepository
from kumoi.storage.meta.sqlite.schema import MIGRATIONS
from kumoi.storage.meta.sqlite.sns import SqliteSnsRepository
from kumoi.storage.meta.sqlite.sqs import SqliteSqsRepository


class SqliteMetadataStore:
    """:class:`~kumoi.storage.meta.contract.MetadataStore` in one SQLite file at ``path``."""

    def __init__(
        self, path: Path, *, clock: Clock, readers: int = READERS, faults: FaultPlan = NO_FAULTS
    ) -> None:
        self.db = Database(path, MIGRATIONS, readers=readers, faults=faults)
        self.s3: S3Repository = SqliteS3Repository(self.db)
        self.s3_archive: S3ArchiveRepository = SqliteS3ArchiveRepository(self.db)
        self.sqs: SqsRepository = SqliteSqsRepository(self.db, clock)
        self.iam: IamRepository = SqliteIamRepository(self.db)
        self.sns: SnsRepository = SqliteSnsRepository(self.db)
        ledger = SqliteBlobLedger(self.db, clock)
        self.record_blob_intent = ledger.record_blob_intent
        self.pending_blob_intents = ledger.pending_blob_intents
        self.clear_blob_intents = ledger.clear_blob_intents
        self.take_garbage = ledger.take_garbage
        self.forget_garbage = ledger.forget_garbage

    async def start(self) -> None:
        """Create or open the file, migrate it, start the writer and reader threads."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self.db.start()

    async def close(self) -> None:
        await self.db.close()

    @property
    def path(self) -> Path:
        return self.db.path
