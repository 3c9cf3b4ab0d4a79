"""kumoi.services.s3."""
