"""The fake Twilio: state (stored messages, faults, scripts, callbacks) and request handling.

See the package docstring for what it imitates; wire.py holds the format, httpd.py the
socket server, callbacks.py the signed status callbacks.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import secrets
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sidecar.sms_text import count_segments

from .callbacks import CallbackAttempt, post_status_callback
from .faults import TIMEOUT, Faults
from .httpd import FakeTwilioHTTPServer
from .wire import (
    LIST_PATH,
    ONE_PATH,
    SERVICE_SENDER,
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

@dataclass(frozen=True)
class FakeTwilioStats:
    requests_total: int
    by_status: dict[int, int]
    timeouts: int
    lost_answers: int
    max_in_flight: int
    in_flight: int = 0  # requests being answered now (held ones included)
    held: int = 0  # requests waiting for release()


class FakeTwilio:
    """The fake server. Thread-safe; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        failure_rate_429: float = 0.0,
        failure_rate_500: float = 0.0,
        timeout_rate: float = 0.0,
        timeout_sleep: float = 30.0,
        lost_answer: bool = False,
        seed: int | None = None,
        auto_status: str | None = None,
        auto_status_delay: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._address = (host, port)
        self._clock = clock
        self.faults = Faults(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # hold(): how many more requests may pass before the rest wait (None: no hold).
        self._passes: int | None = None
        self._released = threading.Condition(self._lock)
        self._held = 0
        self._messages: list[ReceivedMessage] = []
        self._callbacks: list[CallbackAttempt] = []
        self._connections: set[socket.socket] = set()
        self._server: FakeTwilioHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._auto_status, self._auto_status_delay = auto_status, auto_status_delay
        self.faults.configure(
            latency=latency,
            failure_rate_429=failure_rate_429,
            failure_rate_500=failure_rate_500,
            timeout_rate=timeout_rate,
            timeout_sleep=timeout_sleep,
            lost_answer=lost_answer,
        )
        self._reset_stats()

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTwilio is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        if self._server is not None or self._stopping.is_set():
            raise RuntimeError("FakeTwilio can be started once")
        self._server = FakeTwilioHTTPServer(self._address, self)
        server = self._server
        self._spawn(lambda: server.serve_forever(poll_interval=0.05), "fake-twilio")
        if self._auto_status:
            self._spawn(self._auto_advance, "fake-twilio-auto-status")
        logger.info("fake Twilio listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent). Handlers asleep in a latency or timeout fault wake at once."""
        if self._server is None or self._stopping.is_set():
            self._stopping.set()
            return
        self._stopping.set()
        self.release()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- inspection and scripting ------------------------------------------------------

    def received(self) -> list[ReceivedMessage]:
        """A copy of every stored message, oldest first."""
        with self._lock:
            return [replace(m) for m in self._messages]

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.received()

    def callbacks(self) -> list[CallbackAttempt]:
        with self._lock:
            return list(self._callbacks)

    @property
    def stats(self) -> FakeTwilioStats:
        with self._lock:
            return FakeTwilioStats(
                self._requests_total,
                dict(self._by_status),
                self._timeouts,
                self._lost_answers,
                self._max_in_flight,
                self._in_flight,
                self._held,
            )

    def clear(self) -> None:
        """Forget messages, callbacks, stats and scripts; fault settings stay."""
        with self._lock:
            self._messages.clear()
            self._callbacks.clear()
            self._reset_stats()
        self.faults.clear_scripts()

    def _reset_stats(self) -> None:
        self._requests_total = self._timeouts = self._lost_answers = 0
        self._in_flight = self._max_in_flight = 0
        self._by_status: Counter[int] = Counter()

    def script_error(
        self,
        to: str,
        code: int,
        status: int = 400,
        message: str = "Scripted error",
        times: int | None = None,
    ) -> None:
        """Make the next `times` creates to `to` (None: all) fail with Twilio error `code`."""
        self.faults.script_error(to, code, status, message, times)

    def script_response_sequence(self, outcomes: Iterable[int | str | None]) -> None:
        """Queue outcomes for the next creates, whatever their number, before any random fault.

        Items: None (process normally), 429 (error 20429), a 5xx status (HTML body) or
        TIMEOUT ("timeout"). E.g. `[500, 500]` fails the next two creates with 500.
        """
        self.faults.script_sequence(outcomes)

    def hold(self, after: int = 0) -> None:
        """Answer `after` more requests, then keep every later one waiting until release()
        (or stop()): a test can catch the sender mid-send, without racing it."""
        with self._lock:
            self._passes = after

    def release(self) -> None:
        """End hold(): every waiting request goes on, and later ones are not held."""
        with self._lock:
            self._passes = None
            self._released.notify_all()

    def set_faults(self, **changes: Any) -> None:
        """Change fault injection at runtime (Faults.configure: latency, failure_rate_429,
        failure_rate_500, timeout_rate, timeout_sleep, lost_answer); None keeps a value."""
        self.faults.configure(**changes)

    # --- status callbacks --------------------------------------------------------------

    def send_status_callbacks(
        self,
        status: str = "delivered",
        error_code: int | None = None,
        *,
        sids: Collection[str] | None = None,
        timeout: float = 5.0,
    ) -> int:
        """Move messages that have a StatusCallback to `status` and POST each a signed callback.

        `sids` limits it to those messages. Returns how many callbacks got an HTTP answer.
        """
        return self._advance(
            status, error_code, sids=sids, timeout=timeout, with_callback_only=True
        )

    def _advance(
        self,
        status: str,
        error_code: int | None,
        *,
        sids: Collection[str] | None,
        timeout: float,
        with_callback_only: bool,
        older_than: float | None = None,
    ) -> int:
        now = self._clock()
        with self._lock:
            targets = [
                m
                for m in self._messages
                if (m.status_callback or not with_callback_only)
                and (sids is None or m.sid in sids)
                and (
                    older_than is None
                    or (m.status in ("queued", "accepted") and m.received_at <= older_than)
                )
            ]
            for m in targets:
                m.status, m.error_code, m.updated_at = status, error_code, now
                m.from_ = m.from_ or SERVICE_SENDER
            snapshot = [replace(m) for m in targets if m.status_callback]
        return sum(self._post_callback(m, timeout) for m in snapshot)

    def _post_callback(self, message: ReceivedMessage, timeout: float) -> bool:
        http_status = post_status_callback(message, self.auth_token, timeout)
        with self._lock:
            self._callbacks.append(CallbackAttempt(message.sid, message.status_callback or "",
                                                   message.status, http_status))
        return http_status is not None

    def _auto_advance(self) -> None:
        while not self._stopping.wait(0.1):
            cutoff = self._clock() - self._auto_status_delay
            self._advance(
                self._auto_status or "delivered",
                None,
                sids=None,
                timeout=5.0,
                with_callback_only=False,
                older_than=cutoff,
            )

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
                    return list_page(parts.path, urllib.parse.parse_qs(parts.query),
                                     self._messages)
            return error(405, 20004, "Method not allowed")
        if (match := ONE_PATH.match(parts.path)) and match.group(1) == self.account_sid:
            if method != "GET":
                return error(405, 20004, "Method not allowed")
            with self._lock:
                found = next((m for m in self._messages if m.sid == match.group(2)), None)
                return json_reply(200, message_json(found)) if found else not_found
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
                    self._messages.append(outcome)
                    self._lost_answers += 1
            return fail
        outcome = self._validate(form)
        if isinstance(outcome, Reply):
            return outcome
        with self._lock:
            self._messages.append(outcome)
            return json_reply(201, message_json(outcome))

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
