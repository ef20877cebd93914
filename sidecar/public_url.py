"""Where Twilio reaches us (DESIGN.md §10): the bridge's public REST routes.

The sidecar listens on loopback, so Twilio's webhooks go to WordPress, whose bridge relays
them here. Their base is the WordPress option `bkntc_sms_public_base_url` (the bridge writes
`rest_url('bkntc-sms/v1/')`), or BKNTC_SMS_PUBLIC_URL when set. Messages ask for status
callbacks at `<base>twilio/status` only when a base is known; a relayed webhook's public URL
must start with the same base. Read on every use (one small query), so a base the bridge
writes is used at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .booknetic import Booknetic
from .config import Settings, public_base

logger = logging.getLogger(__name__)

STATUS_PATH = "twilio/status"
INBOUND_PATH = "twilio/inbound"


@dataclass(frozen=True)
class WebhookSettings:
    """What checking a relayed Twilio webhook needs, read together."""

    auth_token: str  # the Twilio add-on's Auth Token ("" when not configured)
    base: str | None  # the public base URL (None when unknown)


class PublicUrls:
    """The public base URL and the webhook settings, for the engine and the web app."""

    def __init__(self, settings: Settings, booknetic: Booknetic) -> None:
        self.override, self.booknetic = settings.public_url, booknetic

    def webhook_settings(self) -> WebhookSettings:
        token, option = self.booknetic.webhook_options()
        return WebhookSettings(token, self.override or self._from_option(option))

    def base(self) -> str | None:
        if self.override:
            return self.override
        return self._from_option(self.booknetic.webhook_options()[1])

    def status_callback(self) -> str | None:
        """The StatusCallback every outbound message carries, or None (no base known)."""
        base = self.base()
        return None if base is None else base + STATUS_PATH

    @staticmethod
    def _from_option(value: str) -> str | None:
        if not value:
            return None
        base = public_base(value)
        if base is None:
            logger.warning("the option bkntc_sms_public_base_url is not an http(s) URL; "
                           "status callbacks are off", extra={"value": value[:200]})
        return base
