"""Named changes to botocore's models, each with the AWS behaviour that forces it."""

from kumoi.protocol.overlays.sqs_query import sqs_json_model, sqs_query_model

__all__ = ["sqs_json_model", "sqs_query_model"]
