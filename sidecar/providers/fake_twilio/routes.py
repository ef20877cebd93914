"""The fake Twilio's request handling (called from the HTTP handler threads): hold and
latency, routing, Basic auth, creates with their faults and checks, list and fetch."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable

from sidecar.sms_text import count_segments

from .faults import TIMEOUT, Faults
from .lifecycle import DeliveryRules, settle
from .wire import (
    LIST_PATH,
    ONE_PATH,
    ReceivedMessage,
    Reply,
    check_create,
    check_magic_numbers,
    error,
    form_value,
    html,
    json_reply,
    list_page,
    message_json,
)

logger = logging.getLogger(__name__)


class Routes:
    """What FakeTwilio does with one request (a mixin: the state is the server's)."""

    account_sid: str
    auth_token: str
    faults: Faults
    delivery: DeliveryRules
    _clock: Callable[[], float]
    _lock: threading.Lock
    _released: threading.Condition
    _stopping: threading.Event
    _passes: int | None
    _held: int
    _messages: list[ReceivedMessage]
    _by_sid: dict[str, ReceivedMessage]
    _waiting: list[ReceivedMessage]
    _requests_total: int
    _in_flight: int
    _max_in_flight: int
    _timeouts: int
    _lost_answers: int
    _by_status: Counter[int]

    # --- request handling (called from handler threads) --------------------------------

    def _handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> Reply:
        with self._lock:
            self._requests_total += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            while self._passes == 0 and not self._stopping.is_set():
                self._held += 1
                self._released.wait()
                self._held -= 1
            if self._passes:
                self._passes -= 1
            latency = self.faults.latency
        reply = html(500)
        try:
            if latency:
                self._stopping.wait(latency)
            reply = self._route(method, target, authorization, raw)
        except Exception:
            logger.exception("fake Twilio failed on %s %s", method, target)
        with self._lock:
            if reply.hang:
                self._timeouts += 1
            else:
                self._by_status[reply.status] += 1
        if reply.hang:
            self._stopping.wait(self.faults.timeout_sleep)
        with self._lock:
            self._in_flight -= 1
        return reply

    def _route(self, method: str, target: str, authorization: str | None, raw: bytes) -> Reply:
        parts = urllib.parse.urlsplit(target)
        not_found = error(404, 20404, f"The requested resource {parts.path} was not found")
        if not self._authorised(authorization):
            reply = error(401, 20003, "Authenticate")
            reply.headers = (("WWW-Authenticate", 'Basic realm="Twilio API"'),)
            return reply
        if match := LIST_PATH.match(parts.path):
            if match.group(1) != self.account_sid:
                return not_found
            if method == "POST":
                return self._create(
                    urllib.parse.parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
                )
            if method == "GET":
                with self._lock:
                    now = self._clock()
                    for m in self._messages:
                        settle(m, now)
                    return list_page(parts.path, urllib.parse.parse_qs(parts.query),
                                     self._messages)
            return error(405, 20004, "Method not allowed")
        if (match := ONE_PATH.match(parts.path)) and match.group(1) == self.account_sid:
            if method != "GET":
                return error(405, 20004, "Method not allowed")
            with self._lock:
                found = self._by_sid.get(match.group(2))
                if found is None:
                    return not_found
                settle(found, self._clock())
                return json_reply(200, message_json(found))
        return not_found

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(
            user.encode(), self.account_sid.encode()
        ) and hmac.compare_digest(password.encode(), self.auth_token.encode())

    def _create(self, form: dict[str, list[str]]) -> Reply:
        fault = self.faults.draw()
        if fault == 429:
            return error(429, 20429, "Too Many Requests")
        if fault is not None:
            fail = Reply(0, b"", hang=True) if fault == TIMEOUT else html(int(fault))
            outcome = self._validate(form) if self.faults.lost_answer else None
            if isinstance(outcome, ReceivedMessage):
                outcome.answer_lost = True
                with self._lock:
                    self._store(outcome)
                    self._lost_answers += 1
            return fail
        outcome = self._validate(form)
        if isinstance(outcome, Reply):
            return outcome
        with self._lock:
            self._store(outcome)
            return json_reply(201, message_json(outcome))  # as created: queued, not sent

    def _store(self, message: ReceivedMessage) -> None:
        """Keep an accepted message and decide its fate (lifecycle.py). Holds the lock."""
        message.plan = self.delivery.plan(message.to, message.body, message.status)
        if not message.status_callback:
            message.plan.callbacks = ()
        self._messages.append(message)
        self._by_sid[message.sid] = message
        if message.plan.callbacks:
            self._waiting.append(message)

    def _validate(self, form: dict[str, list[str]]) -> ReceivedMessage | Reply:
        """Twilio's checks, in order; returns the message to store or the error to answer."""
        if (problem := check_create(form)) is not None:
            return problem
        to, from_ = form_value(form, "To"), form_value(form, "From")
        service, body = form_value(form, "MessagingServiceSid"), form.get("Body", [""])[0]
        if (script := self.faults.scripted_error_for(to)) is not None:
            return error(script.status, script.code, script.message)
        if (problem := check_magic_numbers(form)) is not None:
            return problem
        return ReceivedMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=to,
            from_=from_ or None,
            body=body,
            status_callback=form_value(form, "StatusCallback") or None,
            received_at=self._clock(),
            status="queued" if from_ else "accepted",
            messaging_service_sid=service or None,
            num_segments=count_segments(body).segments,
            validity_period=int(form_value(form, "ValidityPeriod") or 0) or None,
        )
