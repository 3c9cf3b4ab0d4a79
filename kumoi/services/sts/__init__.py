"""kumoi.services.sts."""
