"""One typed settings object, read from the environment and validated at start.

Every variable is optional except the database URL (DESIGN.md §7). A bad value raises
`ConfigError` naming the variable, and the CLI turns that into a clean exit message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from .errors import Misconfigured

ENV_PREFIX = "BKNTC_SMS_"

# The table prefix becomes part of SQL identifiers, so only a safe shape is allowed.
_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")


class ConfigError(Misconfigured, ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    table_prefix: str = "wp_"
    # Only an override: each tenant's region normally comes from Booknetic's own setting
    # (sidecar/phone_region.py).
    default_country: str | None = None
    bridge_secret: str | None = None
    twilio_base_url: str | None = None
    batch_size: int = 25
    campaigns_per_tick: int = 5
    retry_delays: tuple[int, ...] = (120, 240)
    tick_seconds: int = 60
    rate_per_second: float = 0.0  # 0 means "no limit"
    send_concurrency: int = 4
    # Not in the DESIGN.md contract; operators rarely need them, tests shorten them.
    twilio_timeout: float = 15.0
    lease_seconds: int = 120
    # Where Twilio reaches our webhooks (DESIGN.md §10); overrides the bridge's option.
    public_url: str | None = None

    @property
    def max_attempts(self) -> int:
        """A row is tried once, then once after each retry delay."""
        return len(self.retry_delays) + 1

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from `env` (normally os.environ); `overrides` win over env."""
        values: dict[str, Any] = {}
        url = _get(env, "DATABASE_URL")
        if not url:
            raise ConfigError(
                f"{ENV_PREFIX}DATABASE_URL is not set: give the WordPress database, e.g. "
                "mysql+pymysql://user:pass@127.0.0.1:3306/wordpress?charset=utf8mb4"
            )
        if not url.startswith(("mysql", "mariadb", "sqlite")):
            raise ConfigError(
                f"{ENV_PREFIX}DATABASE_URL must be a mysql+pymysql://, mariadb+pymysql:// "
                f"or sqlite:/// URL, got {url.split(':', 1)[0]!r}"
            )
        values["database_url"] = url

        prefix = _get(env, "TABLE_PREFIX")
        if prefix is not None:
            if not _PREFIX_RE.match(prefix):
                raise ConfigError(
                    f"{ENV_PREFIX}TABLE_PREFIX must be letters, digits and underscores "
                    f"(1-32 characters), got {prefix!r}"
                )
            values["table_prefix"] = prefix

        country = _get(env, "DEFAULT_COUNTRY")
        if country:
            country = country.upper()
            if country not in phonenumbers.SUPPORTED_REGIONS:
                raise ConfigError(
                    f"{ENV_PREFIX}DEFAULT_COUNTRY must be an ISO 3166 country code that "
                    f"phone numbers use (e.g. US, GB, DE), got {country!r}"
                )
            values["default_country"] = country

        secret = _get(env, "BRIDGE_SECRET")
        if secret is not None:
            if len(secret) < 16:
                raise ConfigError(f"{ENV_PREFIX}BRIDGE_SECRET must be at least 16 characters")
            values["bridge_secret"] = secret

        base = _get(env, "TWILIO_BASE_URL")
        if base:
            if not re.match(r"^https?://[^/\s]+", base):
                raise ConfigError(
                    f"{ENV_PREFIX}TWILIO_BASE_URL must be an http(s) URL such as "
                    f"http://127.0.0.1:8900, got {base!r}"
                )
            values["twilio_base_url"] = base.rstrip("/")

        public = _get(env, "PUBLIC_URL")
        if public:
            normalised = public_base(public)
            if normalised is None:
                raise ConfigError(
                    f"{ENV_PREFIX}PUBLIC_URL must be the public http(s) URL of the bridge's "
                    f"REST routes, such as https://example.com/wp-json/bkntc-sms/v1/, "
                    f"got {public!r}")
            values["public_url"] = normalised

        values["batch_size"] = _int(env, "BATCH_SIZE", 25, 1, 1000)
        values["campaigns_per_tick"] = _int(env, "CAMPAIGNS_PER_TICK", 5, 1, 100)
        values["tick_seconds"] = _int(env, "TICK_SECONDS", 60, 1, 3600)
        values["send_concurrency"] = _int(env, "SEND_CONCURRENCY", 4, 1, 64)
        values["rate_per_second"] = _float(env, "RATE_PER_SECOND", 0.0, 0.0, 10000.0)
        values["retry_delays"] = _delays(env, "RETRY_DELAYS", (120, 240))
        values["twilio_timeout"] = _float(env, "TWILIO_TIMEOUT", 15.0, 0.5, 120.0)
        values["lease_seconds"] = _int(env, "LEASE_SECONDS", 120, 5, 3600)
        if values["lease_seconds"] < values["twilio_timeout"] + 5:
            raise ConfigError(
                f"{ENV_PREFIX}LEASE_SECONDS must exceed {ENV_PREFIX}TWILIO_TIMEOUT by at least "
                f"5 s (a claimed message must be able to finish inside its lease)")
        values.update(overrides)
        return cls(**values)


_PUBLIC_URL_RE = re.compile(r"^https?://[^/\s?#]+[^\s#]*$")


def public_base(url: str) -> str | None:
    """A base URL for the webhooks (`<base>twilio/status`), or None when `url` is not an
    http(s) URL without spaces or fragment. A path gets its trailing slash; a base with a
    query (WordPress's `?rest_route=/bkntc-sms/v1/` form) is kept as it is."""
    url = url.strip()
    if not _PUBLIC_URL_RE.match(url):
        return None
    if "?" not in url and not url.endswith("/"):
        url += "/"
    return url


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(ENV_PREFIX + name)
    if value is None:
        return None
    return value.strip()


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _get(env, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{ENV_PREFIX}{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = _get(env, name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{ENV_PREFIX}{name} must be between {low} and {high}, got {value}")
    return value


def _delays(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = _get(env, name)
    if raw is None or raw == "":
        return default
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    try:
        delays = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}{name} must be comma-separated seconds such as 120,240, got {raw!r}"
        ) from None
    if not delays or any(d < 0 or d > 86400 for d in delays) or len(delays) > 10:
        raise ConfigError(
            f"{ENV_PREFIX}{name} must list 1-10 delays of 0-86400 seconds, got {raw!r}"
        )
    return delays
