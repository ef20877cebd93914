"""Twilio webhooks as the bridge relays them (DESIGN.md §10), for the tests: a status
callback's or an inbound SMS's form, signed as Twilio signs it (the official
RequestValidator over the exact public URL and every field), with the headers the bridge
adds.

Every Web setup (tests/web_support.py) has PUBLIC_BASE as its public base URL
(BKNTC_SMS_PUBLIC_URL), so its messages carry `PUBLIC_BASE + "twilio/status"` as their
StatusCallback and its `/twilio/status` and `/twilio/inbound` accept requests Twilio signed
for the URLs under it (`public_url(path)`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

PUBLIC_BASE = "https://salon.example.test/wp-json/bkntc-sms/v1/"
STATUS_URL = PUBLIC_BASE + "twilio/status"
INBOUND_URL = PUBLIC_BASE + "twilio/inbound"
FORM = "application/x-www-form-urlencoded"
ACCOUNT = "AC" + "0" * 32


def public_url(path: str) -> str:
    """The public URL Twilio calls for the sidecar's webhook `path` ("/twilio/inbound")."""
    return PUBLIC_BASE + path.lstrip("/")


def message_sid() -> str:
    """A message id no message has (Twilio's shape: SM + 32 hex digits)."""
    return "SM" + secrets.token_hex(16)


def status_form(sid: str | None = None, status: str = "delivered",
                error_code: int | None = None, **extra: str) -> dict[str, str]:
    """The fields of a status callback as Twilio posts them."""
    sid = sid or message_sid()
    form = {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "From": "+15005550006",
            "To": "+12025550100", "MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
            "SmsStatus": status, **extra}
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form


def inbound_form(sender: str, body: str = "STOP", **extra: str) -> dict[str, str]:
    """The main fields of an inbound SMS as Twilio posts them (the fake Twilio's
    inbound.py sends them all)."""
    sid = message_sid()
    return {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "MessageSid": sid,
            "SmsMessageSid": sid, "SmsSid": sid, "From": sender, "To": "+15005550006",
            "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
            **extra}


def twilio_signed(token: str, form: Mapping[str, str] | None = None, *,
                  url: str = STATUS_URL, signed_url: str | None = None,
                  signed_form: Mapping[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a webhook Twilio sent to `url`: the form body, the public URL the
    bridge adds, and Twilio's signature — over `signed_url`/`signed_form` when given (a
    signature made for another request)."""
    form = dict(form if form is not None else status_form())
    # (A MultiDict as `signed_form` keeps repeated fields: the validator reads them all.)
    signature = RequestValidator(token).compute_signature(
        signed_url or url, signed_form if signed_form is not None else form)
    return urlencode(form).encode(), {"X-Bkntc-Public-Url": url,
                                      "X-Twilio-Signature": signature}
