"""kumoi.services.sns."""
