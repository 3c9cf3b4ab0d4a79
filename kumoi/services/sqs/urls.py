"""Queue URLs and ARNs: ``<scheme>://<host>/<account id>/<queue name>`` for the host the client used."""

from __future__ import annotations

from urllib.parse import urlsplit

from kumoi.core.errors import ServiceError


def queue_url(base_url: str, account_id: str, name: str) -> str:
    return f"{base_url}/{account_id}/{name}"


def queue_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account_id}:{name}"


def parse_queue_url(url: str) -> tuple[str, str]:
    """(account id, queue name) of a queue URL; raises ``InvalidAddress`` for anything else."""
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:
        path = ""
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or not (len(parts[0]) == 12 and parts[0].isdigit()):
        raise ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.", status=404)
    return parts[0], parts[1]


def parse_queue_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account id, queue name) of ``arn:aws:sqs:<region>:<account>:<name>``, or None."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        return None
    if not (len(parts[4]) == 12 and parts[4].isdigit()):
        return None
    return parts[3], parts[4], parts[5]
