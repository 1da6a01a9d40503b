"""Settings read from the environment, in one place."""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

DEFAULT_SQLITE_URL = "sqlite:///qbslack.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEV_SECRETS_FILE = ".qbslack-dev-secrets.json"

# Secrets a production (PostgreSQL) deployment must be given explicitly.
REQUIRED_IN_PRODUCTION = (
    "PUBLIC_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_SIGNING_SECRET",
    "TOKEN_ENCRYPTION_KEYS",
    "SECRET_KEY",
)


class ConfigError(RuntimeError):
    """A setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    """Everything qbslack reads from its environment; secrets never show in repr."""

    database_url: str = DEFAULT_SQLITE_URL
    redis_url: str | None = None
    public_url: str = "http://localhost:8000"
    port: int = 8000
    slack_client_id: str = ""
    slack_client_secret: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    token_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    secret_key: str = field(default="", repr=False)
    metrics_token: str | None = field(default=None, repr=False)
    qbwc_run_every_minutes: int = 5
    max_soap_body_bytes: int = 20_000_000
    max_slack_body_bytes: int = 1_000_000
    # Slack takes about one message per second per channel.
    slack_post_interval: float = 1.0
    log_json: bool = True
    # A connection with no completed QBWC session for this long is stale (None: per connection,
    # max(3 x its .qwc interval, 15 minutes)).
    stale_after_minutes: float | None = None
    # Transient Slack failures are retried this long before an event is marked failed.
    delivery_give_up_hours: float = 24.0
    # The operator's contact (SUPPORT_EMAIL), shown on /support and /privacy; None: unset.
    support_email: str | None = None
    # Proxies in front of the service that append the caller to X-Forwarded-For (a PaaS
    # router: 1; served directly: 0). Only the entries they added are believed.
    proxy_hops: int = 1

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite default."""
        return self.database_url.startswith("sqlite")

    @property
    def embedded_jobs(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return not self.redis_url

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests, CLI flags)."""
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        dev_secrets_path: Path | None = None,
    ) -> Settings:
        """Read settings from env; fill development defaults unless on PostgreSQL."""
        source: Mapping[str, str] = os.environ if env is None else env

        def get(name: str) -> str:
            return (source.get(name) or "").strip()

        database_url = get("DATABASE_URL") or DEFAULT_SQLITE_URL
        # PostgreSQL or a public https address is a real deployment, whatever the database:
        # generated development secrets would sign its links and encrypt its tokens.
        production = database_url.startswith("postgres") or get("PUBLIC_URL").startswith("https:")
        if production:
            missing = [name for name in REQUIRED_IN_PRODUCTION if not get(name)]
            if missing:
                raise ConfigError(
                    "missing required setting(s) for a production deployment (PostgreSQL "
                    "or an https PUBLIC_URL): " + ", ".join(missing)
                )
        port = _int(get("PORT") or "8000", "PORT", minimum=1)
        dev: dict[str, str] = {}
        if not production and not (get("SECRET_KEY") and get("TOKEN_ENCRYPTION_KEYS")):
            dev = _dev_secrets(dev_secrets_path or Path(DEV_SECRETS_FILE))
        raw_keys = get("TOKEN_ENCRYPTION_KEYS") or dev["TOKEN_ENCRYPTION_KEYS"]
        keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
        for key in keys:
            try:
                Fernet(key)
            except ValueError as exc:
                raise ConfigError(
                    "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key"
                ) from exc
        every = _int(get("QBWC_RUN_EVERY_MINUTES") or "5", "QBWC_RUN_EVERY_MINUTES", minimum=1)
        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        return cls(
            database_url=database_url,
            redis_url=get("REDIS_URL") or None,
            public_url=(get("PUBLIC_URL") or f"http://localhost:{port}").rstrip("/"),
            port=port,
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET") or dev.get("SLACK_SIGNING_SECRET", ""),
            slack_api_url=api_url,
            token_encryption_keys=keys,
            secret_key=get("SECRET_KEY") or dev["SECRET_KEY"],
            metrics_token=get("METRICS_TOKEN") or None,
            qbwc_run_every_minutes=every,
            log_json=get("LOG_FORMAT") != "text",
            stale_after_minutes=_optional_float(get("STALE_AFTER_MINUTES"), "STALE_AFTER_MINUTES"),
            delivery_give_up_hours=_optional_float(
                get("DELIVERY_GIVE_UP_HOURS"), "DELIVERY_GIVE_UP_HOURS"
            )
            or 24.0,
            support_email=_email(get("SUPPORT_EMAIL"), "SUPPORT_EMAIL"),
            proxy_hops=_int(get("PROXY_HOPS") or "1", "PROXY_HOPS", minimum=0),
        )


def _int(raw: str, name: str, *, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _optional_float(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def _email(raw: str, name: str) -> str | None:
    """An email address (one @, no spaces or markup), or None when unset."""
    if not raw:
        return None
    local, at, domain = raw.partition("@")
    if not (local and at and domain) or "@" in domain or any(c in raw for c in " \t<>\"'\\,;"):
        raise ConfigError(f"{name} must be an email address, got {raw!r}")
    return raw


def _dev_secrets(path: Path) -> dict[str, str]:
    """Load development secrets, generating them once into a git-ignored file."""
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
    else:
        data = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        }
        # Created owner-only from the start: never readable by others, even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(data, indent=2))
    log.warning(
        "using development secrets from %s; set SECRET_KEY and TOKEN_ENCRYPTION_KEYS "
        "(and a PostgreSQL DATABASE_URL) for production",
        path,
    )
    return data
