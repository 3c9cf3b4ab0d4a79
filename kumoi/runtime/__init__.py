"""kumoi.runtime."""
