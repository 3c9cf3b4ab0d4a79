"""Typed settings: command-line flags over ``KUMOI_*`` environment variables over defaults.

One :class:`Settings` object is built at start-up and handed to the composition root; nothing else
reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

LOG_LEVELS = ("debug", "info", "warning", "error")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET_KEY = "test"


@dataclass(frozen=True, slots=True)
class Setting:
    """How one setting is documented and read from the environment."""

    env: str
    help: str


@dataclass(frozen=True)
class Settings:
    host: str = field(default="127.0.0.1", metadata={"doc": Setting("KUMOI_HOST", "address to listen on")})
    port: int = field(default=4566, metadata={"doc": Setting("KUMOI_PORT", "port for every service")})
    data_dir: Path = field(
        default=Path(".kumoi"),
        metadata={"doc": Setting("KUMOI_DATA_DIR", "where metadata and blobs are stored")},
    )
    log_level: str = field(
        default="info", metadata={"doc": Setting("KUMOI_LOG_LEVEL", "debug, info, warning or error")}
    )
    region: str = field(
        default=DEFAULT_REGION,
        metadata={"doc": Setting("KUMOI_REGION", "region reported where a request names none")},
    )
    account_id: str = field(
        default=DEFAULT_ACCOUNT, metadata={"doc": Setting("KUMOI_ACCOUNT_ID", "account of the root key pair")}
    )
    access_key: str = field(
        default=DEFAULT_ACCESS_KEY, metadata={"doc": Setting("KUMOI_ACCESS_KEY", "root access key id")}
    )
    secret_key: str = field(
        default=DEFAULT_SECRET_KEY, metadata={"doc": Setting("KUMOI_SECRET_KEY", "root secret access key")}
    )
    accept_any_key: bool = field(
        default=False,
        metadata={
            "doc": Setting(
                "KUMOI_ACCEPT_ANY_KEY",
                "let unknown access keys in (a 12-digit key acts as that account's root)",
            )
        },
    )
    allow_default_keys_on_network: bool = field(
        default=False,
        metadata={
            "doc": Setting(
                "KUMOI_ALLOW_DEFAULT_KEYS", "allow the well-known test/test keys on a non-loopback address"
            )
        },
    )
    base_domains: tuple[str, ...] = field(
        default=("localhost", "localhost.localstack.cloud"),
        metadata={
            "doc": Setting(
                "KUMOI_BASE_DOMAINS",
                "comma-separated domains whose subdomains address S3 buckets virtual-host style",
            )
        },
    )
    hostnames: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": Setting("KUMOI_HOSTNAMES", "comma-separated extra host names this server answers to")
        },
    )
    enforce_iam: bool = field(
        default=False,
        metadata={
            "doc": Setting(
                "KUMOI_ENFORCE_IAM", "authorize every request with IAM policies (root keys stay allowed)"
            )
        },
    )
    enforce_iam_accounts: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": Setting(
                "KUMOI_ENFORCE_IAM_ACCOUNTS",
                "comma-separated account ids to enforce IAM policies for (a request is checked when the "
                "caller's account or the account owning the resource is listed; more can be switched "
                "on while running with POST /_kumoi/enforcement)",
            )
        },
    )
    tls: bool = field(
        default=False,
        metadata={
            "doc": Setting(
                "KUMOI_TLS", "also serve HTTPS (self-signed certificate in the data directory unless given)"
            )
        },
    )
    tls_port: int = field(default=4567, metadata={"doc": Setting("KUMOI_TLS_PORT", "port for HTTPS")})
    tls_cert: str = field(
        default="", metadata={"doc": Setting("KUMOI_TLS_CERT", "PEM certificate (chain) file")}
    )
    tls_key: str = field(default="", metadata={"doc": Setting("KUMOI_TLS_KEY", "PEM private key file")})
    seed: str = field(
        default="",
        metadata={
            "doc": Setting(
                "KUMOI_SEED",
                "TOML file of buckets, queues, topics, users... to create at start (kumoi.toml if present)",
            )
        },
    )
    init_dir: str = field(
        default="",
        metadata={
            "doc": Setting(
                "KUMOI_INIT_DIR",
                "directory whose ready.d/ scripts run once healthy (default: <data-dir>/init)",
            )
        },
    )
    test_clock: bool = field(
        default=False,
        metadata={
            "doc": Setting("KUMOI_TEST_CLOCK", "let tests move the clock forward via POST /_kumoi/clock")
        },
    )
    master_key_file: str = field(
        default="",
        metadata={
            "doc": Setting(
                "KUMOI_MASTER_KEY_FILE",
                "file holding the base64 master key for encryption at rest (default: <data-dir>/keys/)",
            )
        },
    )
    plaintext_at_rest: bool = field(
        default=False,
        metadata={
            "doc": Setting(
                "KUMOI_PLAINTEXT_AT_REST",
                "store new SSE-S3/SSE-KMS objects unencrypted (for comparison benchmarks only)",
            )
        },
    )
    default_object_ownership: str = field(
        default="BucketOwnerEnforced",
        metadata={
            "doc": Setting(
                "KUMOI_DEFAULT_OBJECT_OWNERSHIP",
                "ObjectOwnership of new S3 buckets created without one: BucketOwnerEnforced (ACLs disabled, "
                "as AWS), ObjectWriter or BucketOwnerPreferred (ACLs enabled and enforced)",
            )
        },
    )
    upload_expiry_seconds: int = field(
        default=0,
        metadata={
            "doc": Setting(
                "KUMOI_UPLOAD_EXPIRY_SECONDS",
                "abort incomplete multipart uploads this many seconds after they began (0: keep them, as S3 "
                "does without a lifecycle rule)",
            )
        },
    )
    lifecycle_interval_seconds: int = field(
        default=60,
        metadata={
            "doc": Setting(
                "KUMOI_LIFECYCLE_INTERVAL_SECONDS",
                "seconds between two passes of the S3 lifecycle worker (0: only on POST /_kumoi/lifecycle)",
            )
        },
    )
    restore_speedup: int = field(
        default=60,
        metadata={
            "doc": Setting(
                "KUMOI_RESTORE_SPEEDUP",
                "S3 archive restores take AWS's tier time divided by this (60: an AWS minute is a second)",
            )
        },
    )

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @property
    def uses_default_keys(self) -> bool:
        return self.access_key == DEFAULT_ACCESS_KEY and self.secret_key == DEFAULT_SECRET_KEY


def setting_docs() -> list[tuple[str, str, str, Any]]:
    """(field name, environment variable, help, default) for every setting, for --help and the README."""
    return [(f.name, f.metadata["doc"].env, f.metadata["doc"].help, f.default) for f in fields(Settings)]


def settings_markdown() -> str:
    """The configuration table of the README."""
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for name, variable, help_text, default in setting_docs():
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        shown = f"`{shown}`" if shown else "(none)"
        rows.append(f"| `--{name.replace('_', '-')}` | `{variable}` | {shown} | {help_text} |")
    return "\n".join(rows)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _convert(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{name}: expected a boolean (1/0, true/false), got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name}: expected an integer, got {raw!r}") from None
    if isinstance(default, Path):
        return Path(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load_settings(overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``overrides`` (flags; ``None`` values are ignored), then ``environ``, then defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, variable, _help, default in setting_docs():
        if overrides.get(name) is not None:
            values[name] = overrides[name]
        elif variable in env:
            values[name] = _convert(variable, env[variable], default)
    settings = Settings(**values)
    if settings.log_level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}: {settings.log_level!r}")
    if not 0 <= settings.port <= 65535:
        raise ValueError(f"port out of range: {settings.port}")
    if not (len(settings.account_id) == 12 and settings.account_id.isdigit()):
        raise ValueError(f"account id must be 12 digits: {settings.account_id!r}")
    return settings
