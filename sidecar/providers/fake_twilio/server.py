"""The fake Twilio: its state (stored messages, faults, scripts, callbacks) and lifecycle.

See the package docstring for what it imitates; wire.py holds the format, httpd.py the
socket server, routes.py the request handling, lifecycle.py what becomes of each message,
callbacks.py the signed status callbacks and their dispatcher.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .callbacks import CallbackAttempt, CallbackDispatcher, post_status_callback
from .faults import Faults
from .httpd import FakeTwilioHTTPServer
from .inbound import inbound_form, post_inbound
from .lifecycle import DeliveryRules, settle
from .routes import Routes
from .signing import WebhookAnswer
from .wire import SERVICE_SENDER, ReceivedMessage

logger = logging.getLogger(__name__)

def peak_in_window(times: Iterable[float], window: float) -> int:
    """The most of `times` (messages' `received_at`) inside any half-open interval
    [t, t + window): what a rate limit must bound, counted where Twilio would count it."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class FakeTwilioStats:
    requests_total: int
    by_status: dict[int, int]
    timeouts: int
    lost_answers: int
    max_in_flight: int
    in_flight: int = 0  # requests being answered now (held ones included)
    held: int = 0  # requests waiting for release()


class FakeTwilio(Routes):
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
        delivery: DeliveryRules | None = None,
        auto_callbacks: bool = False,
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
        self._by_sid: dict[str, ReceivedMessage] = {}
        self._waiting: list[ReceivedMessage] = []  # with callbacks still to dispatch
        self._callbacks: list[CallbackAttempt] = []
        self._connections: set[socket.socket] = set()
        self._server: FakeTwilioHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        # auto_status (older form): every message ends in that status after the delay,
        # and its callbacks go out by themselves.
        if auto_status is not None and delivery is None:
            delivery = DeliveryRules(status=auto_status, final_after=auto_status_delay)
        self.delivery = delivery or DeliveryRules()
        self._auto_callbacks = auto_callbacks or auto_status is not None
        self._dispatcher: CallbackDispatcher | None = None
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
        self._dispatcher = CallbackDispatcher(self.auth_token, self._record_callback)
        if self._auto_callbacks:
            self._spawn(self._auto_dispatch, "fake-twilio-auto-callbacks")
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
        if self._dispatcher is not None:
            self._dispatcher.stop()

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
        """A copy of every stored message as it stands now (fake clock), oldest first."""
        with self._lock:
            now = self._clock()
            for m in self._messages:
                settle(m, now)
            return [replace(m, plan=None) for m in self._messages]

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
            self._by_sid.clear()
            self._waiting.clear()
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
        """Set messages that have a StatusCallback to `status` by hand (their plan is
        dropped) and POST each a signed callback now, from this thread.

        `sids` limits it to those messages. Returns how many callbacks got an HTTP answer.
        """
        now = self._clock()
        with self._lock:
            targets = [m for m in self._messages
                       if m.status_callback and (sids is None or m.sid in sids)]
            for m in targets:
                settle(m, now)
                m.plan = None
                m.status, m.error_code, m.updated_at = status, error_code, now
                m.from_ = m.from_ or SERVICE_SENDER
                if m.date_sent is None and status not in ("queued", "accepted"):
                    m.date_sent = now
            self._waiting = [m for m in self._waiting if m.plan is not None]
            snapshot = [replace(m) for m in targets]
        answered = 0
        for m in snapshot:
            http_status = post_status_callback(m, self.auth_token, timeout)
            self._record_callback(CallbackAttempt(m.sid, m.status_callback or "", m.status,
                                                  http_status))
            answered += http_status is not None
        return answered

    def flush_callbacks(self) -> int:
        """Hand every status callback that is due at the fake's clock (by each message's
        plan, lifecycle.py) to the dispatcher thread, in order; returns how many. Wait for
        them with callbacks_done()."""
        if self._dispatcher is None:
            raise RuntimeError("FakeTwilio is not started")
        with self._lock:
            now = self._clock()
            queued = 0
            for m in self._waiting:
                assert m.plan is not None
                for event in m.plan.due_callbacks(now - m.received_at):
                    self._dispatcher.put(m, event.status, event.error_code)
                    queued += 1
            self._waiting = [m for m in self._waiting
                             if m.plan is not None and m.plan.callbacks_left]
        return queued

    def callbacks_done(self, timeout: float | None = None) -> bool:
        """Wait until every dispatched status callback has been posted; False on timeout."""
        return self._dispatcher is None or self._dispatcher.wait_done(timeout)

    # --- inbound messages --------------------------------------------------------------

    def send_inbound(self, url: str, from_: str, body: str, *, to: str = SERVICE_SENDER,
                     opt_out_type: str | None = None,
                     timeout: float = 10.0) -> WebhookAnswer:
        """POST a signed inbound SMS from `from_` to the webhook `url` as Twilio would
        (inbound.py) and return the answer."""
        form = inbound_form(account_sid=self.account_sid, from_=from_, body=body, to=to,
                            opt_out_type=opt_out_type)
        return post_inbound(url, self.auth_token, form, timeout=timeout)

    def _record_callback(self, attempt: CallbackAttempt) -> None:
        with self._lock:
            self._callbacks.append(attempt)

    def _auto_dispatch(self) -> None:
        while not self._stopping.wait(0.05):
            self.flush_callbacks()
