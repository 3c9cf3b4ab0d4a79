"""kumoi.services."""
