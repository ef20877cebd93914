"""A fake Twilio REST server on loopback that the unpatched `twilio` library talks to.

Point a client at it with `client.api.base_url = fake.base_url` (tech-notes §1.1 option A).
It speaks the 2010-04-01 Messages wire format (§1.2-1.4): form-encoded creates with HTTP
Basic auth, 201 + the JSON `MessageInstance` reads, legacy error bodies, Twilio's magic test
numbers (§1.8) and list/fetch for reconciliation. Faults (latency, 429, HTML 500, timeouts and
"accepted but the answer was lost") come from a seeded RNG so runs repeat. Status callbacks are
signed exactly as Twilio signs them (§1.6).

Faults apply to message creates only; latency applies to every request. A fault wins over
validation: a 429/500/timeout answer is given whatever the form held. With `lost_answer=True`
a 500 or timeout on a create that would have succeeded still stores the message (tech-notes
§1.5: the outcome is unknown to the client, so it must reconcile by listing). `auto_status`
moves each message to that status after `auto_status_delay` seconds and sends its callback,
as a live account would; otherwise messages stay `queued` until send_status_callbacks().

Run standalone: `python -m sidecar.providers.fake_twilio --port 8900 --account-sid AC... ...`
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hmac
import json
import logging
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

from sidecar.sms_text import MAX_BODY_CHARS, count_segments

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
# The sender a Messaging Service "picks" when a message it accepted is sent.
SERVICE_SENDER = "+15005550006"

_LIST_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_ONE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")

# Twilio's test-credential magic numbers (tech-notes §1.8). Any other From is accepted, because
# the fake also stands in for a live account.
MAGIC_FROM: dict[str, tuple[int, str]] = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number."),
    "+15005550007": (
        21606,
        "The 'From' phone number provided is not a valid message-capable "
        "Twilio phone number for this destination/account.",
    ),
    "+15005550008": (
        21611,
        "This 'From' number has exceeded the maximum number of queued messages.",
    ),
}
MAGIC_TO: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (
        21612,
        "The 'To' phone number: +15005550002, is not currently reachable "
        "using the 'From' phone number via SMS.",
    ),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region "
        "indicated by the 'To' number: +15005550003.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

_HTML_500 = (
    "<html><head><title>{status} Server Error</title></head>"
    "<body><h1>{status} Server Error</h1><p>An unexpected error occurred.</p></body></html>"
)
_SENT_STATUSES = frozenset({"sent", "delivered", "undelivered", "failed", "read"})
TIMEOUT = "timeout"  # an item for script_response_sequence


@dataclass
class ReceivedMessage:
    """A message the fake accepted (what Twilio would have stored)."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status_callback: str | None
    received_at: float
    status: str
    messaging_service_sid: str | None = None
    num_segments: int = 1
    error_code: int | None = None
    answer_lost: bool = False  # stored, but the client saw a 500 or a timeout
    updated_at: float | None = None


@dataclass(frozen=True)
class CallbackAttempt:
    sid: str
    url: str
    status: str
    http_status: int | None  # None: no HTTP answer (refused, timed out)


@dataclass(frozen=True)
class FakeTwilioStats:
    requests_total: int
    by_status: dict[int, int]
    timeouts: int
    lost_answers: int
    max_in_flight: int


@dataclass
class _ScriptedError:
    code: int
    status: int
    message: str
    remaining: int | None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # sleep `timeout_sleep`, then drop the connection without answering


def _rfc2822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC))


def _error(status: int, code: int, message: str) -> _Reply:
    """Twilio's legacy error body, which the library turns into TwilioRestException."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return _Reply(status, json.dumps(body).encode())


def _html(status: int) -> _Reply:
    return _Reply(status, _HTML_500.format(status=status).encode(), "text/html; charset=utf-8")


def _json(status: int, payload: dict[str, Any]) -> _Reply:
    return _Reply(status, json.dumps(payload).encode())


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
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._messages: list[ReceivedMessage] = []
        self._callbacks: list[CallbackAttempt] = []
        self._scripts: dict[str, _ScriptedError] = {}
        self._sequence: deque[int | str | None] = deque()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._auto_status, self._auto_status_delay = auto_status, auto_status_delay
        self.latency = self.failure_rate_429 = self.failure_rate_500 = self.timeout_rate = 0.0
        self.timeout_sleep, self.lost_answer = timeout_sleep, lost_answer
        self.set_faults(
            latency=latency,
            failure_rate_429=failure_rate_429,
            failure_rate_500=failure_rate_500,
            timeout_rate=timeout_rate,
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
        self._server = _Server(self._address, _Handler, self)
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
            )

    def clear(self) -> None:
        """Forget messages, callbacks, stats and scripts; fault settings stay."""
        with self._lock:
            self._messages.clear()
            self._callbacks.clear()
            self._scripts.clear()
            self._sequence.clear()
            self._reset_stats()

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
        with self._lock:
            self._scripts[to] = _ScriptedError(code, status, message, times)

    def script_response_sequence(self, outcomes: Iterable[int | str | None]) -> None:
        """Queue outcomes for the next creates, whatever their number, before any random fault.

        Items: None (process normally), 429 (error 20429), a 5xx status (HTML body) or
        TIMEOUT ("timeout"). E.g. `[500, 500]` fails the next two creates with 500.
        """
        items = list(outcomes)
        for item in items:
            if not (
                item is None
                or item == TIMEOUT
                or item == 429
                or (isinstance(item, int) and 500 <= item <= 599)
            ):
                raise ValueError(f"unsupported scripted outcome: {item!r}")
        with self._lock:
            self._sequence.extend(items)

    def set_faults(
        self,
        *,
        latency: float | None = None,
        failure_rate_429: float | None = None,
        failure_rate_500: float | None = None,
        timeout_rate: float | None = None,
        timeout_sleep: float | None = None,
        lost_answer: bool | None = None,
    ) -> None:
        """Change fault injection at runtime; arguments left as None keep their value."""
        rates = {
            "failure_rate_429": self.failure_rate_429
            if failure_rate_429 is None
            else failure_rate_429,
            "failure_rate_500": self.failure_rate_500
            if failure_rate_500 is None
            else failure_rate_500,
            "timeout_rate": self.timeout_rate if timeout_rate is None else timeout_rate,
        }
        if any(not 0.0 <= r <= 1.0 for r in rates.values()) or sum(rates.values()) > 1.0:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1: {rates}")
        if (latency is not None and latency < 0) or (
            timeout_sleep is not None and timeout_sleep <= 0
        ):
            raise ValueError("latency must be >= 0 and timeout_sleep > 0")
        with self._lock:
            self.failure_rate_429 = rates["failure_rate_429"]
            self.failure_rate_500 = rates["failure_rate_500"]
            self.timeout_rate = rates["timeout_rate"]
            if latency is not None:
                self.latency = latency
            if timeout_sleep is not None:
                self.timeout_sleep = timeout_sleep
            if lost_answer is not None:
                self.lost_answer = lost_answer

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
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
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
        with self._lock:
            self._callbacks.append(CallbackAttempt(message.sid, url, message.status, http_status))
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

    def _handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> _Reply:
        with self._lock:
            self._requests_total += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            latency = self.latency
        reply = _html(500)
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
            self._stopping.wait(self.timeout_sleep)
        with self._lock:
            self._in_flight -= 1
        return reply

    def _route(self, method: str, target: str, authorization: str | None, raw: bytes) -> _Reply:
        parts = urllib.parse.urlsplit(target)
        not_found = _error(404, 20404, f"The requested resource {parts.path} was not found")
        if not self._authorised(authorization):
            reply = _error(401, 20003, "Authenticate")
            reply.headers = (("WWW-Authenticate", 'Basic realm="Twilio API"'),)
            return reply
        if match := _LIST_PATH.match(parts.path):
            if match.group(1) != self.account_sid:
                return not_found
            if method == "POST":
                return self._create(
                    urllib.parse.parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
                )
            if method == "GET":
                return self._list(parts.path, urllib.parse.parse_qs(parts.query))
            return _error(405, 20004, "Method not allowed")
        if (match := _ONE_PATH.match(parts.path)) and match.group(1) == self.account_sid:
            if method != "GET":
                return _error(405, 20004, "Method not allowed")
            with self._lock:
                found = next((m for m in self._messages if m.sid == match.group(2)), None)
                return _json(200, self._message_json(found)) if found else not_found
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

    def _draw_fault(self) -> int | str | None:
        with self._lock:
            if self._sequence:
                return self._sequence.popleft()
            draw = self._rng.random()
            for outcome, rate in (
                (429, self.failure_rate_429),
                (500, self.failure_rate_500),
                (TIMEOUT, self.timeout_rate),
            ):
                if draw < rate:
                    return outcome
                draw -= rate
        return None

    def _create(self, form: dict[str, list[str]]) -> _Reply:
        fault = self._draw_fault()
        if fault == 429:
            return _error(429, 20429, "Too Many Requests")
        if fault is not None:
            fail = _Reply(0, b"", hang=True) if fault == TIMEOUT else _html(int(fault))
            if self.lost_answer and isinstance(outcome := self._validate(form), ReceivedMessage):
                outcome.answer_lost = True
                with self._lock:
                    self._messages.append(outcome)
                    self._lost_answers += 1
            return fail
        outcome = self._validate(form)
        if isinstance(outcome, _Reply):
            return outcome
        with self._lock:
            self._messages.append(outcome)
            return _json(201, self._message_json(outcome))

    def _validate(self, form: dict[str, list[str]]) -> ReceivedMessage | _Reply:
        """Twilio's checks, in order; returns the message to store or the error to answer."""

        def value(name: str) -> str:
            return form.get(name, [""])[0].strip()

        to, from_, service = value("To"), value("From"), value("MessagingServiceSid")
        body = form.get("Body", [""])[0]
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not body and not (value("MediaUrl") or value("ContentSid")):
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return _error(
                400,
                21617,
                f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit.",
            )
        if not from_ and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        with self._lock:
            script = self._scripts.get(to)
            if script is not None and script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    del self._scripts[to]
        if script is not None:
            return _error(script.status, script.code, script.message)
        for number, table in ((from_, MAGIC_FROM), (to, MAGIC_TO)):
            if number in table:
                code, message = table[number]
                return _error(400, code, message)
        return ReceivedMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=to,
            from_=from_ or None,
            body=body,
            status_callback=value("StatusCallback") or None,
            received_at=self._clock(),
            status="queued" if from_ else "accepted",
            messaging_service_sid=service or None,
            num_segments=count_segments(body).segments,
        )

    def _message_json(self, m: ReceivedMessage) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{m.account_sid}/Messages/{m.sid}"
        return {
            "account_sid": m.account_sid,
            "api_version": API_VERSION,
            "body": m.body,
            "date_created": _rfc2822(m.received_at),
            "date_sent": _rfc2822(m.updated_at or m.received_at)
            if m.status in _SENT_STATUSES
            else None,
            "date_updated": _rfc2822(m.updated_at or m.received_at),
            "direction": "outbound-api",
            "error_code": m.error_code,
            "error_message": None if m.error_code is None else f"Error {m.error_code}",
            "from": m.from_,
            "messaging_service_sid": m.messaging_service_sid,
            # A Messaging Service has not picked a sender yet, so Twilio reports 0 segments.
            "num_media": "0",
            "num_segments": "0" if m.status == "accepted" else str(m.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": m.sid,
            "status": m.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": m.to,
            "uri": f"{uri}.json",
        }

    def _list(self, path: str, query: dict[str, list[str]]) -> _Reply:
        """Newest first, filtered by To/From/DateSent (the fake "sends" at once: received_at)."""

        def arg(name: str) -> str | None:
            return query[name][0] if name in query else None

        try:
            page_size = min(max(int(arg("PageSize") or 50), 1), 1000)
            page = max(int(arg("Page") or 0), 0)
            date_filters = [
                (op, _parse_date(arg(f"DateSent{op}")))
                for op in ("", "<", ">")
                if arg(f"DateSent{op}")
            ]
        except ValueError as exc:
            return _error(400, 20001, f"Invalid parameter: {exc}")
        with self._lock:
            rows = [
                m
                for m in reversed(self._messages)
                if (arg("To") is None or m.to == arg("To"))
                and (arg("From") is None or m.from_ == arg("From"))
                and all(_date_matches(m.received_at, op, d) for op, d in date_filters)
            ]
            chunk = [self._message_json(m) for m in rows[page * page_size : (page + 1) * page_size]]
        filters = {k: v[0] for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int) -> str:
            params = {**filters, "PageSize": page_size, "Page": number}
            if number:
                params["PageToken"] = f"PA{number}"
            return f"{path}?{urllib.parse.urlencode(params)}"

        start = page * page_size
        return _json(
            200,
            {
                "messages": chunk,
                "start": start,
                "end": start + max(len(chunk) - 1, 0),
                "page": page,
                "page_size": page_size,
                "uri": page_uri(page),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if start + page_size < len(rows) else None,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            },
        )


def _parse_date(text: str | None) -> datetime:
    """`YYYY-MM-DD` (a whole day) or an ISO 8601 datetime as the library sends it."""
    assert text is not None
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_matches(ts: float, op: str, bound: datetime) -> bool:
    """Twilio's DateSent filters: `=` same day, `<` on or before, `>` on or after."""
    sent = datetime.fromtimestamp(ts, UTC)
    whole_day = bound.time() == datetime.min.time()
    left, right = (sent.date(), bound.date()) if whole_day or op == "" else (sent, bound)
    return {"": left == right, "<": left <= right, ">": left >= right}[op]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 64 concurrent clients connect without a refused SYN

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeTwilio):
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves the FQDN, which can stall on a sandbox's DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as requests.Session expects
    server_version, sys_version = "FakeTwilio/1.0", ""
    timeout = 60  # an idle keep-alive connection is closed after this many seconds
    disable_nagle_algorithm = True  # else headers and body meet delayed ACKs: +40 ms a call

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b""
        reply = self.server.fake._handle(method, self.path, self.headers.get("Authorization"), raw)
        if reply.hang:
            self.close_connection = True  # the client gave up long ago; answer nothing
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run a fake Twilio until Ctrl-C; print its base URL."""
    parser = argparse.ArgumentParser(
        prog="python -m sidecar.providers.fake_twilio", description=main.__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    )
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN", "fake-token"))
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--failure-rate-429", type=float, default=0.0)
    parser.add_argument("--failure-rate-500", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument("--timeout-sleep", type=float, default=30.0)
    parser.add_argument("--lost-answer", action="store_true")
    parser.add_argument(
        "--auto-status",
        help="move messages to this status (e.g. delivered) "
        "and send their callbacks after --auto-status-delay seconds",
    )
    parser.add_argument("--auto-status-delay", type=float, default=0.5)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        latency=args.latency,
        failure_rate_429=args.failure_rate_429,
        failure_rate_500=args.failure_rate_500,
        timeout_rate=args.timeout_rate,
        timeout_sleep=args.timeout_sleep,
        lost_answer=args.lost_answer,
        seed=args.seed,
        auto_status=args.auto_status,
        auto_status_delay=args.auto_status_delay,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under a process manager too
    with fake:
        print(fake.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
