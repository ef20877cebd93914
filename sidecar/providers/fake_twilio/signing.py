"""Webhooks sent the way Twilio sends them (tech-notes §1.6): a form POST signed with the
account's Auth Token over the exact URL (`RequestValidator.compute_signature`), with
Twilio's headers. Status callbacks and simulated inbound messages both go out through here.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookAnswer:
    """What the webhook's server answered; `status` None when no answer came."""

    status: int | None
    content_type: str = ""
    body: str = ""


def post_signed_form(url: str, params: Mapping[str, str], auth_token: str, *,
                     timeout: float) -> WebhookAnswer:
    """POST `params` form-encoded to `url`, signed as Twilio signs its webhooks."""
    signature = RequestValidator(auth_token).compute_signature(url, dict(params))
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return WebhookAnswer(response.status, response.headers.get("Content-Type", ""),
                                 response.read().decode(errors="replace"))
    except urllib.error.HTTPError as exc:
        return WebhookAnswer(exc.code, exc.headers.get("Content-Type", ""),
                             exc.read().decode(errors="replace"))
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("webhook to %s failed: %s", url, exc)
        return WebhookAnswer(None)
