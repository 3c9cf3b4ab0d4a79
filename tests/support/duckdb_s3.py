"""DuckDB connections that read and write ``s3://`` on a kumoi server, with no network beyond it.

DuckDB's httpfs extension normally downloads from DuckDB's own site on first use. The PyPI
package ``duckdb-ext-httpfs`` ships the extension built for one exact DuckDB release, laid out as an
extension directory; ``duckdb_ext.init`` points the connection at that directory and turns
automatic downloads off, so ``LOAD httpfs`` reads the packaged file.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import duckdb
import duckdb_ext


def duckdb_on(endpoint: str, key: str, secret: str, region: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose ``s3://`` URLs go to ``endpoint`` (path style, plain HTTP)."""
    connection = duckdb.connect()
    duckdb_ext.init(connection)
    connection.execute("LOAD httpfs")
    connection.execute(
        "CREATE SECRET kumoi (TYPE s3, KEY_ID ?, SECRET ?, ENDPOINT ?, URL_STYLE 'path', "
        "USE_SSL false, REGION ?)",
        [key, secret, urlsplit(endpoint).netloc, region],
    )
    return connection
