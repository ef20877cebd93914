"""Status callbacks, signed exactly as Twilio signs them (tech-notes §1.6; signing.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .signing import post_signed_form
from .wire import API_VERSION, SERVICE_SENDER, ReceivedMessage


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
    return post_signed_form(message.status_callback, params, auth_token,
                            timeout=timeout).status
