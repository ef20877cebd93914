"""The send engine under faults (issue 10): pause while messages are in flight, a reply lost
after the provider stored the message, the database going away mid-send.

Real MariaDB (a private server where the test kills it), the fake Twilio over HTTP with
latency, and the unpatched twilio library. The clock of the services is frozen, so no lease
ever expires here: whatever finishes, finished because a live process did the work itself.
Waits are on conditions, never on durations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sidecar.db import make_engine
from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.runtime import Runtime
from tests.conftest import MariaDBServer, start_mariadb
from tests.shop import Shop, open_shop
from tests.web_support import wait_for

PAUSE_AFTER = 24  # messages, as in the report: Pause pressed after the first 24 of 263


@pytest.fixture
def big_shop(mysql_url: str, engine_for) -> Iterator[Shop]:
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=300,
                     env={"BKNTC_SMS_BATCH_SIZE": "10", "BKNTC_SMS_SEND_CONCURRENCY": "4"})
    shop.fake.set_faults(latency=0.03)
    yield shop
    shop.runtime.close()
    shop.fake.stop()


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), env={"BKNTC_SMS_BATCH_SIZE": "10"})
    yield s
    s.runtime.close()
    s.fake.stop()


def _sending(shop: Shop) -> int:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.outbox.kick(cid)
    wait_for(lambda: len(shop.fake.received()) >= PAUSE_AFTER, what="the first messages")
    return cid


def _assert_paused_cleanly(shop: Shop, cid: int, received_at_return: int) -> None:
    """At most SEND_CONCURRENCY messages reached the fake after the pause returned, and
    every row not sent or failed is pending, unclaimed, with its attempt given back."""
    assert shop.runtime.outbox.wait_idle(60)
    late = len(shop.fake.received()) - received_at_return
    assert late <= shop.runtime.settings.send_concurrency, late
    pending = [r for r in shop.rows(cid) if r["status"] == "pending"]
    assert pending, "the pause came too late to leave anything to release"
    assert {(r["attempts"], r["claimed_by"], r["lease_until"], r["unsure_since"])
            for r in pending} == {(0, None, None, None)}
    progress = shop.assert_counters_match_rows(cid)
    assert progress["status"] == "paused"


def _resume_to_the_end(shop: Shop, cid: int) -> None:
    shop.runtime.campaigns.resume(None, cid)
    shop.runtime.outbox.kick(cid)
    assert shop.runtime.outbox.wait_idle(120)
    assert shop.runtime.campaigns.get(None, cid)["status"] == "completed"
    counts = shop.received_to()
    assert set(counts.values()) == {1}
    assert set(counts) == {r["phone"] for r in shop.rows(cid) if r["status"] == "sent"}
    shop.assert_counters_match_rows(cid)


# -- pause ---------------------------------------------------------------------------------


def test_pause_stops_sending_at_once(big_shop: Shop) -> None:
    cid = _sending(big_shop)
    big_shop.runtime.campaigns.pause(None, cid)
    _assert_paused_cleanly(big_shop, cid, len(big_shop.fake.received()))
    _resume_to_the_end(big_shop, cid)


def test_pause_from_another_runtime_stops_this_one(big_shop: Shop) -> None:
    """The web process pauses while another process sends (DESIGN.md §13): no in-process
    signal reaches the sender, only the database."""
    other = Runtime.build(big_shop.runtime.settings, engine=make_engine(big_shop.url),
                          clock=big_shop.clock)
    try:
        cid = _sending(big_shop)
        other.campaigns.pause(None, cid)
        _assert_paused_cleanly(big_shop, cid, len(big_shop.fake.received()))
    finally:
        other.close()
    _resume_to_the_end(big_shop, cid)


# -- an unknown outcome --------------------------------------------------------------------


def test_an_unsure_row_is_reconciled_before_the_suppression_check(shop: Shop) -> None:
    """The fake stores the message but answers 500; the number is then suppressed while
    the campaign is paused. The message went out, so the row must say sent, not skipped."""
    shop.fake.set_faults(lost_answer=True)
    shop.fake.script_response_sequence([500])
    svc = shop.runtime.campaigns
    cid = shop.create()
    svc.send(None, cid)
    shop.runtime.outbox.run_queue()
    (unsure,) = [r for r in shop.rows(cid) if r["status"] == "pending"]
    assert unsure["unsure_since"] is not None and "HTTP 500" in unsure["last_error"]
    (stored,) = [m for m in shop.fake.received() if m.to == unsure["phone"]]
    svc.pause(None, cid)
    shop.runtime.suppressions.add(None, unsure["phone"], "asked at the desk")
    svc.resume(None, cid)
    shop.clock.advance(2)  # the retry falls due
    shop.runtime.outbox.run_queue()
    row = next(r for r in shop.rows(cid) if r["id"] == unsure["id"])
    assert (row["status"], row["provider_message_id"], row["last_error"]) == (
        "sent", stored.sid, "")
    assert shop.received_to()[unsure["phone"]] == 1
    assert svc.get(None, cid)["status"] == "completed"
    shop.assert_counters_match_rows(cid)


def test_a_message_twilio_still_holds_queued_is_found_not_sent_twice(any_url: str,
                                                                    engine_for) -> None:
    """Issue 14 item 6: Twilio stored the message but the answer was lost, and it holds the
    message queued (no date_sent) under its rate limits. A lookup by DateSent cannot see it
    and the retry sent it again; the lookup by number and creation date finds it."""
    shop = open_shop(any_url, engine_for(any_url), customers=20,
                     fake_options={"delivery": DeliveryRules(queued_for=3600)})
    try:
        shop.fake.set_faults(lost_answer=True)
        shop.fake.script_response_sequence([500])
        cid = shop.create()
        shop.runtime.campaigns.send(None, cid)
        shop.runtime.outbox.run_queue()
        unsure = [r for r in shop.rows(cid) if r["status"] == "pending"]
        assert len(unsure) == 1 and unsure[0]["unsure_since"] is not None
        (stored,) = [m for m in shop.fake.received() if m.to == unsure[0]["phone"]]
        assert (stored.status, stored.date_sent) == ("queued", None)
        shop.clock.advance(2)  # the retry falls due; Twilio still holds the message
        shop.runtime.outbox.run_queue()
        assert set(shop.received_to().values()) == {1}, "sent twice"
        row = next(r for r in shop.rows(cid) if r["id"] == unsure[0]["id"])
        assert (row["status"], row["provider_message_id"]) == ("sent", stored.sid)
        assert shop.runtime.campaigns.get(None, cid)["status"] == "completed"
        shop.assert_counters_match_rows(cid)
    finally:
        shop.runtime.close()
        shop.fake.stop()


# -- the database goes away ----------------------------------------------------------------


class _Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def own_mariadb() -> Iterator[MariaDBServer]:
    """A server of this test's own, to kill and start again."""
    server = start_mariadb()
    yield server
    server.stop()


def test_a_live_process_retries_its_own_claims_after_a_database_outage(
        own_mariadb: MariaDBServer) -> None:
    url = own_mariadb.url(own_mariadb.create_database())
    engine = make_engine(url)
    shop = open_shop(url, engine, customers=200,
                     env={"BKNTC_SMS_BATCH_SIZE": "10", "BKNTC_SMS_SEND_CONCURRENCY": "4"})
    seen = _Seen()
    logging.getLogger("sidecar.outbox").addHandler(seen)
    try:
        shop.fake.set_faults(latency=0.02)
        cid = _sending(shop)
        own_mariadb.kill()
        wait_for(lambda: "database unreachable; will retry" in seen.messages,
                 what="the engine to notice the outage")
        own_mariadb.restart()
        # The clock is frozen: a claim left to its lease would never be claimed again.
        assert shop.runtime.outbox.wait_idle(120), "the engine did not finish"
        progress = shop.assert_counters_match_rows(cid)
        assert progress["status"] == "completed" and progress["pending"] == 0
        counts = shop.received_to()
        assert set(counts.values()) == {1}, {p: n for p, n in counts.items() if n > 1}
        assert set(counts) == {r["phone"] for r in shop.rows(cid) if r["status"] == "sent"}
        assert {r["claimed_by"] for r in shop.rows(cid)} == {None}
    finally:
        logging.getLogger("sidecar.outbox").removeHandler(seen)
        shop.runtime.close()
        shop.fake.stop()
        engine.dispose()
