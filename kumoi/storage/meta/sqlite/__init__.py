"""The embedded metadata store: SQLite in WAL mode, one group-committing writer, reader threads.

``engine.py`` runs the threads, ``schema.py`` migrates the file, ``s3.py``, ``sqs.py`` and
``blobs.py`` hold each repository's SQL, ``store.py`` puts them together.
"""

from kumoi.storage.meta.sqlite.store import SqliteMetadataStore

__all__ = ["SqliteMetadataStore"]
