"""Status callbacks, signed exactly as Twilio signs them (tech-notes §1.6)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from .wire import API_VERSION, SERVICE_SENDER, ReceivedMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackAttempt:
    sid: str
    url: str
    status: str
    http_status: int | None  # None: no HTTP answer (refused, timed out)


def post_status_callback(message: ReceivedMessage, auth_token: str,
                         timeout: float) -> int | None:
    """POST a signed status callback as Twilio would; the HTTP status, or None
    when no answer came (refused, timed out)."""
    assert message.status_callback is not None
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or SERVICE_SENDER,
        "To": message.to,
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": message.status,
        "SmsStatus": message.status,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    url = message.status_callback
    signature = RequestValidator(auth_token).compute_signature(url, params)
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
    http_status: int | None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            http_status = response.status
    except urllib.error.HTTPError as exc:
        http_status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("status callback to %s failed: %s", url, exc)
        http_status = None
    return http_status
