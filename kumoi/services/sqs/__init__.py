"""kumoi.services.sqs."""
