"""Twilio through the official `twilio` library — the only module that imports it.

Credentials and sender are Booknetic's Twilio SMS add-on options (booknetic.md §4.2).
Each thread gets its own `Client` because requests.Session is not promised to be thread-safe
(tech-notes §1.5), every request has an explicit timeout (the library's default is none),
and `BKNTC_SMS_TWILIO_BASE_URL` re-points the library's API domain (tech-notes §1.1).

Twilio's error codes are mapped to what the engine should do (tech-notes §1.7). Unknown
4xx codes count as permanent — retrying a request Twilio rejected would only repeat it.

After a send, Twilio's message statuses (from status callbacks or a fetch) are mapped to
ours (`DeliveryStatus`) and its asynchronous error codes put into words here, so the engine
acts on our statuses alone. Status callbacks are checked with the library's own
`RequestValidator` (tech-notes §1.6), never by hand.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

# The library imports its Messages API on the first request; imported with this module
# instead, so the first batch of a queue run does not wait for it (~0.1-0.2 s).
import twilio.rest.api.v2010.account.message  # noqa: F401
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from ..booknetic import TwilioStatus
from .base import (
    DeliveryStatus,
    DeliveryUpdate,
    Outcome,
    ProviderNotReady,
    SendResult,
    Suppress,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0
TWILIO_API = "https://api.twilio.com"  # the library's own default domain for Messages

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

# Codes after which the number must never be texted again: the suppression entry to add
# (DESIGN.md §10), in the campaign's tenant. They arrive when sending (sync) and in status
# callbacks or the poller (async: sidecar/opt_outs.py `suppress_from_provider`).
OPT_OUT_CODES: dict[int, Suppress] = {
    21610: Suppress("provider", "Replied STOP (Twilio error 21610)"),
    30004: Suppress("provider", "Blocked by the carrier or the recipient (Twilio error 30004)"),
    30005: Suppress("provider", "Unknown or inactive number (Twilio error 30005)"),
    30006: Suppress("provider", "Landline or unreachable carrier (Twilio error 30006)"),
}


# Twilio's message statuses (tech-notes §1.3) as ours. The others (receiving, received:
# inbound; partially_delivered) say nothing about an outbound SMS and are not tracked.
DELIVERY_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,  # a Messaging Service has not picked a sender yet
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

# Why a message Twilio accepted did not arrive: the asynchronous error codes (tech-notes
# §1.7), in words a business owner understands.
DELIVERY_ERRORS: dict[int, str] = {
    30001: "queue overflow at Twilio (too many messages at once)",
    30002: "the Twilio account is suspended",
    30003: "unreachable: the phone is off or out of coverage",
    30004: "blocked by the carrier or the recipient",
    30005: "unknown number: it does not exist or is no longer in service",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier as spam",
    30008: "unknown error at the carrier",
    30034: "the sender number is not registered for US A2P 10DLC messaging",
}

# Failures that another try cannot fix for that number (DESIGN.md §12 "Resend to failed"):
# invalid or unreachable numbers, opt-outs, landlines, blocked numbers.
NOT_WORTH_RESENDING: frozenset[int] = frozenset(
    {21211, 21214, 21610, 21612, 21614, 30004, 30005, 30006})

_MESSAGE_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def delivery_error(status: str, code: int | None) -> str:
    """An undelivered or failed message's reason in words, with Twilio's code."""
    if code is not None:
        return f"{DELIVERY_ERRORS.get(code, 'carrier error')} (Twilio {code})"
    return "canceled before it was sent" if status == "canceled" else "no reason given"


def delivery_update(message_id: str, status: str | None, error_code: Any,
                    at: int) -> DeliveryUpdate | None:
    """Twilio's status of a message as a DeliveryUpdate, or None for a status we do not
    track. The error (code and words) is kept for undelivered and failed messages only."""
    ours = DELIVERY_STATUSES.get((status or "").strip().lower())
    if ours is None or not _MESSAGE_SID.fullmatch(message_id or ""):
        return None
    if ours not in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED):
        return DeliveryUpdate(message_id, ours, at)
    try:
        code = int(error_code) if error_code not in (None, "") else None
    except (TypeError, ValueError):
        code = None
    code = code if code and 0 < code < 2**31 else None
    return DeliveryUpdate(message_id, ours, at, code, delivery_error(str(status), code)[:255])


def status_callback_update(form: Mapping[str, str], at: int) -> DeliveryUpdate | None:
    """The DeliveryUpdate a status callback's form fields carry (tech-notes §1.6: Twilio
    adds fields without notice; only these are read), or None when it carries none."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = form.get("MessageStatus") or form.get("SmsStatus")
    return delivery_update(sid, status, form.get("ErrorCode"), at)


def empty_twiml() -> str:
    """TwiML that answers an inbound message with nothing: the sidecar sends no reply of its
    own (Twilio Advanced Opt-Out or the carrier answers STOP, START and HELP)."""
    return str(MessagingResponse())


def webhook_signature_valid(auth_token: str, url: str, form: Any, signature: str,
                            signature_settings: str = "") -> bool:
    """Whether a webhook request is Twilio's: its X-Twilio-Signature over the exact URL
    Twilio called and every form field, with the account's Auth Token. HMAC-SHA1 unless
    X-Twilio-Webhooks-Signature-Settings names another algorithm the library knows."""
    if not auth_token or not signature:
        return False
    algorithm = get_signature_algorithm(signature_settings)
    return bool(RequestValidator(auth_token).validate(url, form, signature,
                                                      algorithm=algorithm))


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


# How far back from an unsure attempt reconciliation looks (our clock against Twilio's).
RECONCILE_SLACK = 60
# Twilio lists a number's messages newest first: this many are enough to go back past an
# unsure attempt (nobody texts one customer dozens of times in minutes).
RECONCILE_PAGE = 20


class TwilioProvider:
    """Sends with one account and sender; safe to call from several threads. With a
    `status_callback` URL every message asks Twilio to report its status there."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, *,
                 base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 status_callback: str | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.base_url = base_url
        self.timeout = timeout
        self.status_callback = status_callback
        self._local = threading.local()

    @property
    def client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            # A non-empty `environment` keeps TWILIO_REGION/EDGE/… from the process
            # environment out of it (an empty dict would fall back to os.environ).
            client = Client(self.account_sid, self.auth_token,
                            http_client=self._http_client(),
                            environment={"BKNTC_SMS": "1"})
            if self.base_url:
                client.api.base_url = self.base_url
            self._local.client = client
        return client

    def _http_client(self) -> TwilioHttpClient:
        """The library's HTTP client with the environment read once, not per request.

        requests scans the whole process environment for proxy and CA-bundle variables on
        every request (`trust_env`), twice per Messages POST: with a thread sending
        hundreds of messages a second that scan was a visible share of each message's
        Python time. The same variables are read here when the client is made (one per
        thread) and given to the session, so a proxy or CA bundle still applies.
        """
        proxies = get_environ_proxies(self.base_url or TWILIO_API)
        http = TwilioHttpClient(timeout=self.timeout, proxy=proxies or None)
        if http.session is not None:
            http.session.trust_env = False
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                http.session.verify = bundle
        return http

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
            message = self.client.messages.create(to=to, body=body,
                                                  status_callback=self.status_callback,
                                                  **extra)
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
        """Look for a message Twilio accepted although we never saw the answer.

        By `To` alone, newest first, comparing when Twilio created it and the body: a
        message Twilio still holds in its queue has no `date_sent` yet, so a DateSent filter
        would miss it and the retry would send it twice (DESIGN.md §10)."""
        cutoff = since - RECONCILE_SLACK
        try:
            for message in self.client.messages.list(to=to, limit=RECONCILE_PAGE,
                                                     page_size=RECONCILE_PAGE):
                created = _epoch(message.date_created)
                if created is not None and created < cutoff:
                    break  # newest first: everything after this is older still
                if message.body == body:
                    return str(message.sid)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            logger.warning("reconcile lookup failed", extra={"to": to, "error": str(exc)})
            raise
        return None

    def fetch_status(self, message_id: str) -> DeliveryUpdate | None:
        """The message's status now (`messages(sid).fetch()`), or None when Twilio does not
        know it or reports a status we do not track."""
        try:
            message = self.client.messages(message_id).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise
        at = (_epoch(message.date_updated) or _epoch(message.date_sent)
              or _epoch(message.date_created) or 0)
        return delivery_update(str(message.sid), message.status, message.error_code, at)


def _epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _twilio_message(exc: TwilioRestException) -> str:
    text = str(exc.msg or "")
    prefix = "Unable to create record: "
    return text[len(prefix):] if text.startswith(prefix) else text


def provider_from_status(status: TwilioStatus, *, base_url: str | None,
                         timeout: float = DEFAULT_TIMEOUT,
                         status_callback: str | None = None) -> TwilioProvider:
    """A provider for Booknetic's configured account, or ProviderNotReady saying why not."""
    if not status.ready:
        raise ProviderNotReady(status.problem or "the Twilio add-on is not ready")
    return TwilioProvider(status.account_sid, status.auth_token, status.sender,
                          base_url=base_url, timeout=timeout, status_callback=status_callback)
