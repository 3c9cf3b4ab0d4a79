"""kumoi: a self-hosted, AWS-compatible cloud core."""

__version__ = "0.1.0"
