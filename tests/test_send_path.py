"""The per-message send path made cheaper (issue 17, item 3) keeps its behaviour: one status
read per campaign serves every send thread, and the Twilio client still honours the proxy
variables it now reads once per client instead of on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sidecar.outbox.gate import SendGate
from sidecar.providers.base import Outcome
from sidecar.providers.fake_twilio import FakeTwilio
from sidecar.providers.twilio import TwilioProvider

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"
SENDER = "+15005550006"
THREADS = 4
WAIT = 30.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {WAIT} s waiting for {what}"
        time.sleep(0.01)


class BlockedStatus:
    """A campaign status read that blocks until released, counting its calls."""

    def __init__(self, active: bool) -> None:
        self.active, self.calls = active, 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, _campaign_id: int) -> bool:
        with self._lock:
            self.calls += 1
        assert self.release.wait(WAIT)
        return self.active


class CountingTicker:
    """A frozen monotonic clock that counts how often it was read."""

    def __init__(self) -> None:
        self.reads = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.reads += 1
        return 100.0


@pytest.mark.parametrize("active", [True, False])
def test_one_status_read_answers_every_thread_waiting_for_it(active: bool) -> None:
    status, ticker = BlockedStatus(active), CountingTicker()
    gate = SendGate(status, ticker=ticker)
    answers: list[bool] = []
    threads = [threading.Thread(target=lambda: answers.append(gate.may_send(7)))
               for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    # Every thread has looked at the clock, so each has either started the read or found
    # it going (it stays going until released).
    wait_until(lambda: ticker.reads >= THREADS and status.calls >= 1,
               "every thread to ask while the first read is going")
    status.release.set()
    for thread in threads:
        thread.join(WAIT)
    assert status.calls == 1
    assert answers == [active] * THREADS


def test_a_pause_signalled_here_reads_again_after_a_shared_read() -> None:
    status, ticker = BlockedStatus(True), CountingTicker()
    status.release.set()
    gate = SendGate(status, ticker=ticker)
    assert gate.may_send(7) and gate.may_send(7)
    assert status.calls == 1  # the answer is fresh for CHECK_SECONDS
    gate.paused_here()
    status.active = False
    assert not gate.may_send(7)
    assert status.calls == 2


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN, seed=7, timeout_sleep=600) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy", "TWILIO_EDGE", "TWILIO_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_the_client_takes_the_proxy_from_the_environment_when_it_is_made(
        fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests no longer reads the environment per request; the provider reads it when
    a thread's client is made, so a configured proxy still carries every message."""
    direct = TwilioProvider(SID, TOKEN, SENDER, base_url=fake.base_url, timeout=5)
    assert direct.send("+15551234567", "direct").outcome is Outcome.SENT

    # A proxy nobody listens on: a client made now must try to go through it.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    proxied = TwilioProvider(SID, TOKEN, SENDER, base_url=fake.base_url, timeout=5)
    refused = proxied.send("+15551234568", "through the proxy")
    assert refused.outcome in (Outcome.TRANSIENT, Outcome.UNKNOWN), refused
    assert "proxy" in refused.error.lower() or "connect" in refused.error.lower()
    # ... and NO_PROXY, read at the same moment, still exempts the host.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    exempt = TwilioProvider(SID, TOKEN, SENDER, base_url=fake.base_url, timeout=5)
    assert exempt.send("+15551234569", "exempt").outcome is Outcome.SENT
    assert [m.body for m in fake.received()] == ["direct", "exempt"]
