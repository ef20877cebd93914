"""Twilio through the official `twilio` library — the only module that imports it.

Credentials and sender are Booknetic's Twilio SMS add-on options (booknetic.md §4.2).
Each thread gets its own `Client` because requests.Session is not promised to be thread-safe
(tech-notes §1.5), every request has an explicit timeout (the library's default is none),
and `BKNTC_SMS_TWILIO_BASE_URL` re-points the library's API domain (tech-notes §1.1).

Twilio's error codes are mapped to what the engine should do (tech-notes §1.7). Unknown
4xx codes count as permanent — retrying a request Twilio rejected would only repeat it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ..booknetic import TwilioStatus
from .base import Outcome, ProviderNotReady, SendResult, Suppress

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0

# Codes after which nothing can be sent until an admin changes the Twilio configuration.
HALT_CODES: dict[int, str] = {
    20003: "Twilio rejected the Account SID / Auth Token (authentication failed)",
    20005: "the Twilio account is not active",
    20404: "the Twilio account was not found (check the Account SID)",
    21212: "the sender phone number is not a valid phone number",
    21603: "no sender phone number is configured",
    21606: "the sender number cannot send SMS (not a Twilio number of this account, or "
           "not SMS-capable)",
    21659: "the sender number does not belong to this Twilio account",
    30002: "the Twilio account is suspended",
    30034: "the sender number is not registered for US A2P 10DLC messaging",
}

# Codes where the same request may succeed later.
TRANSIENT_CODES: dict[int, str] = {
    20429: "Twilio is rate-limiting requests (too many at once)",
    21611: "the sender's message queue is full",
    30001: "Twilio's queue overflowed",
    30008: "unknown delivery error at the carrier",
}

# Permanent for this recipient; a clearer wording than Twilio's for the common ones.
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid 'To' phone number",
    21214: "the number cannot be reached",
    21408: "SMS to this country is not enabled in the Twilio console (Geo Permissions)",
    21610: "the recipient opted out (replied STOP)",
    21612: "Twilio cannot route SMS to this number",
    21614: "the number is not a mobile number (cannot receive SMS)",
    21602: "the message body is empty",
    21617: "the message body is too long",
    30004: "the message was blocked",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "the carrier filtered the message as spam",
}

# Codes after which the number must never be texted again: the suppression entry to add.
OPT_OUT_CODES: dict[int, Suppress] = {
    21610: Suppress("opt_out", "Replied STOP (Twilio error 21610)"),
}


def classify(status: int | None, code: int | None) -> tuple[Outcome, str]:
    """What a Twilio error means for the engine, and a human explanation."""
    if code in OPT_OUT_CODES:
        return Outcome.OPTED_OUT, PERMANENT_CODES[code]
    if code in HALT_CODES:
        return Outcome.HALT, HALT_CODES[code]
    if code in TRANSIENT_CODES:
        return Outcome.TRANSIENT, TRANSIENT_CODES[code]
    if code in PERMANENT_CODES:
        return Outcome.PERMANENT, PERMANENT_CODES[code]
    if status == 401:
        return Outcome.HALT, "Twilio rejected the credentials (HTTP 401)"
    if status == 429:
        return Outcome.TRANSIENT, "Twilio is rate-limiting requests (HTTP 429)"
    if status is not None and status >= 500:
        # The message may or may not have been created: reconcile before re-sending.
        return Outcome.UNKNOWN, f"Twilio server error (HTTP {status})"
    return Outcome.PERMANENT, f"Twilio refused the message (HTTP {status}, code {code})"


class TwilioProvider:
    """Sends with one account and sender; safe to call from several threads."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, *,
                 base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.base_url = base_url
        self.timeout = timeout
        self._local = threading.local()

    @property
    def client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            # A non-empty `environment` keeps TWILIO_REGION/EDGE/… from the process
            # environment out of it (an empty dict would fall back to os.environ).
            client = Client(self.account_sid, self.auth_token,
                            http_client=TwilioHttpClient(timeout=self.timeout),
                            environment={"BKNTC_SMS": "1"})
            if self.base_url:
                client.api.base_url = self.base_url
            self._local.client = client
        return client

    def _sender_args(self) -> dict[str, str]:
        # A Messaging Service SID in the add-on's sender field sends through that service.
        if self.sender.startswith("MG") and len(self.sender) == 34:
            return {"messaging_service_sid": self.sender}
        return {"from_": self.sender}

    def send(self, to: str, body: str, *, validity_period: int | None = None) -> SendResult:
        extra: dict[str, Any] = self._sender_args()
        if validity_period is not None:  # quiet hours: Twilio's queue must not send at night
            extra["validity_period"] = validity_period
        try:
            message = self.client.messages.create(to=to, body=body, **extra)
        except TwilioRestException as exc:
            outcome, meaning = classify(exc.status, exc.code)
            detail = _twilio_message(exc)
            return SendResult(outcome, error_code=exc.code,
                              error=f"{meaning} — Twilio {exc.code}: {detail}"[:500],
                              suppress=OPT_OUT_CODES.get(exc.code))
        except TwilioException as exc:  # e.g. TwilioServiceException (RFC 9457 bodies)
            status = getattr(exc, "status", None)
            code = getattr(exc, "code", None)
            outcome, meaning = classify(status, code)
            return SendResult(outcome, error_code=code, error=f"{meaning}: {exc}"[:500],
                              suppress=OPT_OUT_CODES.get(code))
        except requests.exceptions.ConnectTimeout:
            return SendResult(Outcome.TRANSIENT,
                              error=f"could not connect to Twilio within {self.timeout:g} s")
        except requests.exceptions.Timeout:
            return SendResult(Outcome.UNKNOWN,
                              error=f"Twilio did not answer within {self.timeout:g} s")
        except requests.exceptions.ConnectionError as exc:
            return SendResult(Outcome.UNKNOWN, error=f"connection to Twilio failed: {exc}"[:500])
        if message.status in ("failed", "undelivered") and message.error_code:
            code = int(message.error_code)
            outcome, meaning = classify(None, code)
            return SendResult(outcome, message.sid, code, f"{meaning} — Twilio {code}",
                              suppress=OPT_OUT_CODES.get(code))
        return SendResult(Outcome.SENT, message_id=message.sid)

    def find_sent(self, to: str, body: str, since: int) -> str | None:
        """Look for a message Twilio accepted although we never saw the answer."""
        after = datetime.fromtimestamp(since - 60, tz=UTC)
        try:
            for message in self.client.messages.list(to=to, date_sent_after=after, limit=20):
                if message.body == body:
                    return str(message.sid)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            logger.warning("reconcile lookup failed", extra={"to": to, "error": str(exc)})
            raise
        return None


def _twilio_message(exc: TwilioRestException) -> str:
    text = str(exc.msg or "")
    prefix = "Unable to create record: "
    return text[len(prefix):] if text.startswith(prefix) else text


def provider_from_status(status: TwilioStatus, *, base_url: str | None,
                         timeout: float = DEFAULT_TIMEOUT) -> TwilioProvider:
    """A provider for Booknetic's configured account, or ProviderNotReady saying why not."""
    if not status.ready:
        raise ProviderNotReady(status.problem or "the Twilio add-on is not ready")
    return TwilioProvider(status.account_sid, status.auth_token, status.sender,
                          base_url=base_url, timeout=timeout)
