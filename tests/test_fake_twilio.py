"""The fake Twilio server, driven by the real (unpatched) twilio library."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sidecar.providers.fake_twilio import TIMEOUT, DeliveryRules, FakeTwilio
from sidecar.sample_data.throwaway_mariadb import free_port

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"
SENDER = "+15005550006"
RECIPIENT = "+15551234567"
# Safety nets for a busy machine, far above what any answer takes (and below a hung
# answer's sleep, so a client timeout always means the fake did not answer).
CLIENT_TIMEOUT = 60
WAIT = 120


@pytest.fixture(autouse=True)
def _isolated_twilio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Client reads these from the environment (tech-notes §1.1); a region or edge would
    # rewrite the loopback host, and a proxy would intercept it.
    for name in ("TWILIO_EDGE", "TWILIO_REGION", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN, seed=7, timeout_sleep=600) as server:  # stop() wakes it
        yield server


def make_client(fake: FakeTwilio, token: str = TOKEN, timeout: float = CLIENT_TIMEOUT) -> Client:
    client = Client(SID, token, http_client=TwilioHttpClient(timeout=timeout))
    client.api.base_url = fake.base_url
    return client


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return make_client(fake)


def send(client: Client, to: str = RECIPIENT, body: str = "Hello", **kwargs: object):
    kwargs.setdefault("from_", SENDER)
    return client.messages.create(to=to, body=body, **kwargs)


# --- creates ------------------------------------------------------------------------------


def test_create_returns_a_message_instance(fake: FakeTwilio, client: Client) -> None:
    message = send(client, body="Olá " + "€" * 80)  # 'á' forces UCS-2: 85 units, 2 parts

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "2"
    assert (message.to, message.from_, message.account_sid) == (RECIPIENT, SENDER, SID)
    assert message.error_code is None and message.price is None
    assert message.date_created is not None and message.date_sent is None
    [received] = fake.received()
    assert (received.sid, received.to, received.body) == (message.sid, RECIPIENT, message.body)
    assert fake.stats.by_status == {201: 1}


def test_messaging_service_send_is_accepted_with_zero_segments(client: Client) -> None:
    message = client.messages.create(to=RECIPIENT, messaging_service_sid="MG" + "1" * 32, body="Hi")
    assert (message.status, message.num_segments, message.from_) == ("accepted", "0", None)


def test_bad_auth_is_rejected_with_20003(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(make_client(fake, token="wrong"))
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert fake.received() == []


def test_path_account_must_match_the_authenticated_one(fake: FakeTwilio) -> None:
    response = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/ACother/Messages.json",
        data={"To": RECIPIENT, "From": SENDER, "Body": "x"},
        auth=(SID, TOKEN),
        timeout=CLIENT_TIMEOUT,
    )
    assert response.status_code == 404
    assert response.json()["code"] == 20404


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": ""}, 21604),
        ({"body": None}, 21602),
        ({"body": "x" * 1601}, 21617),
        ({"from_": None}, 21603),
    ],
)
def test_invalid_requests(fake: FakeTwilio, client: Client, kwargs: dict, code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(client, **kwargs)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake.received() == []


def test_body_of_exactly_1600_chars_is_accepted(client: Client) -> None:
    assert send(client, body="x" * 1600).num_segments == "11"


@pytest.mark.parametrize(
    ("from_", "to", "code"),
    [
        ("+15005550001", RECIPIENT, 21212),
        ("+15005550007", RECIPIENT, 21606),
        ("+15005550008", RECIPIENT, 21611),
        (SENDER, "+15005550001", 21211),
        (SENDER, "+15005550002", 21612),
        (SENDER, "+15005550003", 21408),
        (SENDER, "+15005550004", 21610),
        (SENDER, "+15005550009", 21614),
    ],
)
def test_magic_numbers(fake: FakeTwilio, client: Client, from_: str, to: str, code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(client, to=to, from_=from_)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake.received() == []


def test_any_other_sender_is_accepted(client: Client) -> None:
    assert send(client, from_="+442071838750").status == "queued"


def test_scripted_error_applies_the_given_number_of_times(fake: FakeTwilio, client: Client) -> None:
    fake.script_error(RECIPIENT, 30007, status=400, message="Filtered", times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            send(client)
        assert (caught.value.status, caught.value.code) == (400, 30007)
    send(client, to="+15557654321")  # other numbers are unaffected
    assert send(client).status == "queued"
    assert len(fake.received()) == 2


# --- faults -------------------------------------------------------------------------------


def test_429_and_500_faults_surface_as_rest_exceptions(fake: FakeTwilio, client: Client) -> None:
    fake.set_faults(failure_rate_429=1.0)
    with pytest.raises(TwilioRestException) as caught:
        send(client)
    assert (caught.value.status, caught.value.code) == (429, 20429)

    fake.set_faults(failure_rate_429=0.0, failure_rate_500=1.0)
    with pytest.raises(TwilioRestException) as caught:
        send(client)
    assert (caught.value.status, caught.value.code) == (500, 500)  # HTML body: no JSON code

    assert fake.received() == []
    assert fake.stats.by_status == {429: 1, 500: 1}


def test_timeout_fault_raises_requests_timeout_and_stop_does_not_hang(fake: FakeTwilio) -> None:
    fake.set_faults(timeout_rate=1.0, timeout_sleep=3600)
    with pytest.raises(requests.exceptions.Timeout):
        send(make_client(fake, timeout=0.3))
    # The handler is still asleep in its hour-long fault: stop() must wake it, not wait.
    stopping = threading.Thread(target=fake.stop, daemon=True)
    stopping.start()
    stopping.join(WAIT)
    assert not stopping.is_alive(), "stop() waits for a handler asleep in a timeout fault"
    assert fake.received() == []


def test_lost_answer_records_the_message_the_client_never_heard_of(
    fake: FakeTwilio, client: Client
) -> None:
    fake.set_faults(lost_answer=True)
    fake.script_response_sequence([500, TIMEOUT])
    with pytest.raises(TwilioRestException):
        send(client, body="first")
    with pytest.raises(requests.exceptions.Timeout):
        send(make_client(fake, timeout=0.3), body="second")
    assert send(client, body="third").status == "queued"

    received = fake.received()
    assert [(m.body, m.answer_lost) for m in received] == [
        ("first", True),
        ("second", True),
        ("third", False),
    ]
    # Reconciliation finds the lost ones by listing what was sent to the number.
    assert {m.body for m in client.messages.list(to=RECIPIENT)} == {"first", "second", "third"}
    stats = fake.stats
    assert (stats.lost_answers, stats.by_status.get(500), stats.timeouts) == (2, 1, 1)


def test_faults_are_repeatable_for_a_seed() -> None:
    def outcomes(seed: int) -> list[int]:
        with FakeTwilio(
            SID, TOKEN, seed=seed, failure_rate_500=0.3, failure_rate_429=0.2
        ) as server:
            client = make_client(server)
            result = []
            for _ in range(20):
                try:
                    send(client)
                    result.append(201)
                except TwilioRestException as exc:
                    result.append(exc.status)
            return result

    first = outcomes(42)
    assert first == outcomes(42)
    assert {201, 429, 500} <= set(first)


def test_latency_delays_answers(fake: FakeTwilio, client: Client) -> None:
    fake.set_faults(latency=0.2)
    started = time.monotonic()
    send(client)
    assert time.monotonic() - started >= 0.2


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {WAIT} s waiting for {what}"
        time.sleep(0.02)


def test_64_concurrent_clients(fake: FakeTwilio) -> None:
    fake.hold()  # every request waits until all 64 are inside the server at once

    def one(i: int) -> str:
        return send(make_client(fake), to=f"+1555000{i:04d}").sid

    with ThreadPoolExecutor(max_workers=64) as pool:
        futures = [pool.submit(one, i) for i in range(64)]
        try:
            wait_until(lambda: fake.stats.held == 64, "64 requests held at once")
        finally:
            fake.release()
        sids = [f.result() for f in futures]
    assert len(set(sids)) == 64
    assert len(fake.received()) == 64
    assert (fake.stats.max_in_flight, fake.stats.in_flight, fake.stats.held) == (64, 0, 0)


def test_hold_answers_the_given_number_then_waits_for_release(fake: FakeTwilio,
                                                              client: Client) -> None:
    fake.hold(after=2)
    assert [send(client, body=f"m{i}").status for i in range(2)] == ["queued", "queued"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        third = pool.submit(send, client, body="m2")
        try:
            wait_until(lambda: fake.stats.held == 1, "the third request to be held")
            assert [m.body for m in fake.received()] == ["m0", "m1"]
            assert not third.done()
        finally:
            fake.release()
        assert third.result().status == "queued"
    assert send(client, body="m3").status == "queued"  # released: no hold any more
    assert [m.body for m in fake.received()] == ["m0", "m1", "m2", "m3"]


# --- list and fetch -----------------------------------------------------------------------


def test_list_by_to_is_newest_first_and_pages(fake: FakeTwilio, client: Client) -> None:
    for i in range(5):
        send(client, body=f"m{i}")
    send(client, to="+15557654321", body="other")

    listed = client.messages.list(to=RECIPIENT, page_size=2)  # follows next_page_uri
    assert [m.body for m in listed] == ["m4", "m3", "m2", "m1", "m0"]
    assert [m.body for m in client.messages.list(to=RECIPIENT, limit=2)] == ["m4", "m3"]
    assert len(client.messages.list()) == 6


def test_list_filters_by_date_sent(client: Client) -> None:
    created = send(client, body="recent").date_created
    assert created is not None
    recent = client.messages.list(to=RECIPIENT, date_sent_after=created - timedelta(minutes=5))
    assert [m.body for m in recent] == ["recent"]
    assert client.messages.list(to=RECIPIENT, date_sent_after=created + timedelta(hours=1)) == []
    assert len(client.messages.list(date_sent=created.date())) == 1  # whole-day filter


def test_fetch_one_message(client: Client) -> None:
    sid = send(client, body="fetch me").sid
    assert client.messages(sid).fetch().body == "fetch me"
    with pytest.raises(TwilioRestException) as caught:
        client.messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)


# --- status callbacks ---------------------------------------------------------------------


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it is sent."""

    url: str
    calls: list[tuple[str, dict[str, str], str]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    calls: list[tuple[str, dict[str, str], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
            calls.append((self.path, form, self.headers.get("X-Twilio-Signature", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", calls)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_status_callbacks_are_signed_like_twilio(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    callback = f"{receiver.url}/twilio/status?campaign=7"
    first = send(client, status_callback=callback)
    send(client, to="+15557654321")  # no StatusCallback: no callback
    second = send(client, to="+15550001111", status_callback=callback)

    assert fake.send_status_callbacks("undelivered", error_code=30003) == 2

    validator = RequestValidator(TOKEN)
    assert len(receiver.calls) == 2
    for (path, form, signature), message in zip(receiver.calls, (first, second), strict=True):
        assert path == "/twilio/status?campaign=7"
        assert validator.validate(callback, form, signature)
        assert not validator.validate(callback, {**form, "ErrorCode": "0"}, signature)
        assert form["MessageSid"] == message.sid and form["To"] == message.to
        assert (form["MessageStatus"], form["ErrorCode"], form["AccountSid"]) == (
            "undelivered",
            "30003",
            SID,
        )
    fetched = client.messages(first.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    assert fetched.date_sent is not None


def test_auto_status_delivers_callbacks_by_itself(receiver: Receiver) -> None:
    with FakeTwilio(SID, TOKEN, auto_status="delivered", auto_status_delay=0.05) as server:
        message = send(make_client(server), status_callback=f"{receiver.url}/cb")
        wait_until(lambda: len(receiver.calls) == 3, "the automatic status callbacks")
        assert server.callbacks_done(WAIT)
        assert [(form["MessageSid"], form["MessageStatus"]) for _, form, _ in receiver.calls] \
            == [(message.sid, "queued"), (message.sid, "sent"), (message.sid, "delivered")]
        assert server.received()[0].status == "delivered"


# --- what becomes of a message (lifecycle.py) ----------------------------------------------


@dataclass
class Clock:
    """The fake's clock, moved by hand (tests/clock.py would do; this keeps the module
    free of the engine's test helpers)."""

    now: float = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def _fake(clock: Clock, **rules: object) -> FakeTwilio:
    return FakeTwilio(SID, TOKEN, clock=clock, delivery=DeliveryRules(**rules)).start()


def test_by_default_a_message_is_sent_and_delivered_at_once(fake: FakeTwilio,
                                                            client: Client) -> None:
    created = send(client)
    assert (created.status, created.date_sent) == ("queued", None)  # the create's answer
    fetched = client.messages(created.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("delivered", None)
    assert fetched.date_sent == fetched.date_created


def test_queued_mode_holds_messages_without_date_sent() -> None:
    clock = Clock()
    server = _fake(clock, queued_for=600, final_after=60)
    try:
        client = make_client(server)
        sid = send(client, body="held").sid
        clock.now += 599
        held = client.messages(sid).fetch()
        assert (held.status, held.date_sent) == ("queued", None)
        created = held.date_created
        assert created is not None
        # Twilio's DateSent filter cannot see a message that has not been sent yet...
        assert client.messages.list(to=RECIPIENT,
                                    date_sent_after=created - timedelta(minutes=5)) == []
        # ...but a list by number shows it, newest first, with its creation date.
        send(client, body="later")
        listed = client.messages.list(to=RECIPIENT, limit=20)
        assert [(m.body, m.status) for m in listed] == [("later", "queued"), ("held", "queued")]
        assert listed[1].date_created == created
        clock.now += 1
        sent = client.messages(sid).fetch()
        assert sent.status == "sent" and sent.date_sent == created + timedelta(seconds=600)
        clock.now += 60
        assert client.messages(sid).fetch().status == "delivered"
    finally:
        server.stop()


def _fates(seed: int, numbers: list[str]) -> list[tuple[str, int | None]]:
    clock = Clock()
    server = _fake(clock, undelivered_rate=0.3, failed_rate=0.1, seed=seed)
    try:
        client = make_client(server)
        for number in reversed(numbers):  # a different order than the comparison
            send(client, to=number, body="fate")
        return [(m.status, m.error_code) for m in sorted(server.received(),
                                                         key=lambda m: m.to)]
    finally:
        server.stop()


def test_fates_are_decided_by_seed_number_and_body_whatever_the_order() -> None:
    numbers = [f"+1555300{i:04d}" for i in range(60)]
    first = _fates(5, numbers)
    assert first == _fates(5, numbers)
    assert first != _fates(6, numbers)
    statuses = Counter(status for status, _ in first)
    assert set(statuses) == {"delivered", "undelivered", "failed"}
    assert all(code in (30003, 30005, 30006, 30007, 30008) for status, code in first
               if status != "delivered")
    assert all(code is None for status, code in first if status == "delivered")


def test_fixed_outcomes_by_number() -> None:
    clock = Clock()
    server = _fake(clock, outcomes={"+15553000001": ("undelivered", 30006)})
    try:
        client = make_client(server)
        sid = send(client, to="+15553000001").sid
        fetched = client.messages(sid).fetch()
        assert (fetched.status, fetched.error_code) == ("undelivered", 30006)
        assert send(client, to="+15553000002").status == "queued"
        assert [m.status for m in server.received()] == ["undelivered", "delivered"]
    finally:
        server.stop()


def _callback_statuses(receiver: Receiver) -> list[tuple[str, str, str | None]]:
    return [(form["MessageSid"], form["MessageStatus"], form.get("ErrorCode"))
            for _, form, _ in receiver.calls]


def test_callbacks_follow_the_plan_when_flushed_and_are_signed(receiver: Receiver) -> None:
    clock = Clock()
    server = _fake(clock, queued_for=10, final_after=20,
                   outcomes={"+15553000009": ("undelivered", 30005)})
    callback = f"{receiver.url}/wp-json/bkntc-sms/v1/twilio/status"
    try:
        client = make_client(server)
        sid = send(client, to="+15553000009", status_callback=callback).sid
        send(client, to="+15553000010")  # no StatusCallback: never called back
        assert receiver.calls == []  # nothing goes out until flushed
        assert server.flush_callbacks() == 1 and server.callbacks_done(WAIT)
        clock.now += 10
        assert server.flush_callbacks() == 1 and server.callbacks_done(WAIT)
        assert server.flush_callbacks() == 0
        clock.now += 20
        assert server.flush_callbacks() == 1 and server.callbacks_done(WAIT)
        assert _callback_statuses(receiver) == [(sid, "queued", None), (sid, "sent", None),
                                                (sid, "undelivered", "30005")]
        validator = RequestValidator(TOKEN)
        for path, form, signature in receiver.calls:
            assert path == "/wp-json/bkntc-sms/v1/twilio/status"
            assert validator.validate(callback, form, signature)
        assert [(a.sid, a.status, a.http_status) for a in server.callbacks()] == [
            (sid, "queued", 204), (sid, "sent", 204), (sid, "undelivered", 204)]
    finally:
        server.stop()


@pytest.mark.parametrize(("rules", "expected"), [
    ({"out_of_order_rate": 1.0}, ["queued", "delivered", "sent"]),
    ({"duplicate_rate": 1.0}, ["queued", "sent", "delivered", "delivered"]),
    ({"duplicate_rate": 1.0, "out_of_order_rate": 1.0},
     ["queued", "delivered", "delivered", "sent"]),
    ({"lost_rate": 1.0}, []),
    ({"callbacks": False}, []),
], ids=["out of order", "twice", "twice and out of order", "lost", "callbacks off"])
def test_callbacks_out_of_order_twice_or_never(receiver: Receiver, rules: dict[str, object],
                                               expected: list[str]) -> None:
    clock = Clock()
    server = _fake(clock, **rules)
    try:
        client = make_client(server)
        sid = send(client, status_callback=f"{receiver.url}/cb").sid
        server.flush_callbacks()
        assert server.callbacks_done(WAIT)
        assert _callback_statuses(receiver) == [(sid, status, None) for status in expected]
        assert client.messages(sid).fetch().status == "delivered"  # the truth, whatever
    finally:
        server.stop()


def test_callback_rates_apply_to_a_share_of_messages(receiver: Receiver) -> None:
    clock = Clock()
    server = _fake(clock, lost_rate=0.2, duplicate_rate=0.2, out_of_order_rate=0.2, seed=3)
    try:
        client = make_client(server)
        sids = [send(client, to=f"+1555400{i:04d}", status_callback=f"{receiver.url}/cb").sid
                for i in range(50)]
        server.flush_callbacks()
        assert server.callbacks_done(WAIT)
        per_message = {sid: [s for m, s, _ in _callback_statuses(receiver) if m == sid]
                       for sid in sids}
        shapes = Counter("lost" if not seen else "twice" if len(seen) == 4
                         else "out of order" if seen[1] != "sent" else "plain"
                         for seen in per_message.values())
        assert shapes["plain"] > 0 and shapes["lost"] > 0 and shapes["twice"] > 0
        assert shapes["out of order"] > 0
    finally:
        server.stop()


# --- inbound messages ---------------------------------------------------------------------

INBOUND_FIELDS = {"MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "From", "To", "Body",
                  "NumMedia", "NumSegments", "SmsStatus", "ApiVersion", "FromCountry",
                  "FromState", "FromCity", "FromZip", "ToCountry", "ToState", "ToCity", "ToZip"}


def test_inbound_messages_are_signed_like_twilio(fake: FakeTwilio, receiver: Receiver) -> None:
    url = f"{receiver.url}/twilio/inbound?site=1"
    answer = fake.send_inbound(url, "+16175550142", " Stop ", opt_out_type="STOP")
    plain = fake.send_inbound(url, "+33612345678", "hello", to="+15005550007")
    assert (answer.status, plain.status) == (204, 204)
    (path, form, signature), (_, other, other_signature) = receiver.calls
    validator = RequestValidator(TOKEN)
    assert path == "/twilio/inbound?site=1"
    assert validator.validate(url, form, signature)
    assert not validator.validate(url, {**form, "Body": "START"}, signature)
    assert not validator.validate(url.replace("site=1", "site=2"), form, signature)
    assert set(form) == INBOUND_FIELDS | {"OptOutType"} and set(other) <= set(form)
    assert (form["From"], form["To"], form["Body"], form["OptOutType"]) == (
        "+16175550142", SENDER, " Stop ", "STOP")
    assert form["AccountSid"] == SID and form["MessageSid"] == form["SmsSid"]
    assert form["MessageSid"].startswith("SM") and len(form["MessageSid"]) == 34
    assert (form["SmsStatus"], form["NumMedia"], form["FromCountry"]) == ("received", "0", "US")
    assert (other["From"], other["To"], other["FromCountry"]) == ("+33612345678",
                                                                   "+15005550007", "FR")
    assert "OptOutType" not in other and other["MessageSid"] != form["MessageSid"]
    assert validator.validate(url, other, other_signature)


def test_inbound_from_the_command_line(receiver: Receiver) -> None:
    url = f"{receiver.url}/wp-json/bkntc-sms/v1/twilio/inbound"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    sent = subprocess.run(
        [sys.executable, "-m", "sidecar.providers.fake_twilio", "inbound", "--url", url,
         "--from", "+16175550142", "--body", "stop", "--opt-out-type", "STOP",
         "--auth-token", TOKEN], capture_output=True, text=True, env=env, timeout=WAIT)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "HTTP 204"
    [(_, form, signature)] = receiver.calls
    assert RequestValidator(TOKEN).validate(url, form, signature)
    assert (form["From"], form["Body"], form["OptOutType"]) == ("+16175550142", "stop", "STOP")

    closed = f"http://127.0.0.1:{free_port()}/twilio/inbound"
    refused = subprocess.run(
        [sys.executable, "-m", "sidecar.providers.fake_twilio", "inbound", "--url", closed,
         "--from", "+16175550142", "--body", "START"], capture_output=True, text=True,
        env=env, timeout=WAIT)
    assert refused.returncode == 1 and f"no answer from {closed}" in refused.stderr
    assert len(receiver.calls) == 1
