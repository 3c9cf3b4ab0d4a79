"""kumoi.auth."""
