"""kumoi.services.iam."""
