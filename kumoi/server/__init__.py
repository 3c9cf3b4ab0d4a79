"""kumoi.server."""
