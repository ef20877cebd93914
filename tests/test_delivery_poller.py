"""The delivery poller (DESIGN.md §10) against the fake Twilio: messages nobody calls back
for end up with their true status; checks start 10 minutes after sending and back off
(20, 40, … minutes, at most 6 hours apart) until 72 hours; a poll is bounded; rows sent
before delivery tracking are included; every queue run polls; a provider that cannot be
asked costs a check, not a crash. The clock is frozen: every boundary is exact.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from sidecar.outbox.poller import POLL_BATCH, next_check
from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.providers.twilio import TwilioProvider
from tests.shop import Shop, open_shop

ROOT = Path(__file__).resolve().parent.parent
FATES = DeliveryRules(undelivered_rate=0.25, failed_rate=0.1, callbacks=False, seed=4)


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), customers=40,
                  fake_options={"delivery": FATES})
    yield s
    s.runtime.close()
    s.fake.stop()


def fetches(shop: Shop) -> int:
    """GETs of one message the fake answered (the poller's requests)."""
    return shop.fake.stats.requests_total - len(shop.fake.received())


def truth(shop: Shop) -> dict[str, tuple[str, int | None]]:
    return {m.sid: (m.status, m.error_code) for m in shop.fake.received()}


def test_messages_never_called_back_get_their_true_status(shop: Shop) -> None:
    cid = shop.sent_campaign()
    sent = [r for r in shop.rows(cid) if r["status"] == "sent"]
    assert 10 < len(sent) <= POLL_BATCH
    shop.clock.advance(599)
    early = shop.runtime.deliveries.poll()
    assert (early.due, fetches(shop)) == (0, 0)  # not 10 minutes yet: nobody asked
    shop.clock.advance(1)
    report = shop.runtime.deliveries.poll()
    assert (report.due, report.checked, report.errors) == (len(sent), len(sent), 0)
    fates = truth(shop)
    rows = {r["provider_message_id"]: r for r in shop.rows(cid) if r["status"] == "sent"}
    assert {sid: (r["delivery_status"], r["delivery_error_code"]) for sid, r in rows.items()} \
        == fates
    decided = Counter(status for status, _ in fates.values())
    assert set(decided) == {"delivered", "undelivered", "failed"}
    assert (report.delivered, report.undelivered) == (
        decided["delivered"], decided["undelivered"] + decided["failed"])
    campaign = shop.runtime.campaigns.get(None, cid)
    assert (campaign["delivered"], campaign["undelivered"]) == (report.delivered,
                                                                report.undelivered)
    assert all(r["delivery_check_at"] is None for r in rows.values())  # final: done
    assert shop.runtime.deliveries.poll().due == 0


def test_checks_back_off_until_72_hours_then_stop(shop: Shop) -> None:
    """A message Twilio never finishes: asked at 10, 30, 70, 150, … minutes (each wait
    twice the last, at most 6 h), and never after 72 h."""
    shop.fake.delivery = DeliveryRules(queued_for=10**6, callbacks=False)
    cid = shop.create(body="Hi {customer_first_name}, stuck")
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.outbox.drain(cid)
    sent_at = int(shop.clock())
    expected, at, checks = [], sent_at + 600, 0
    while at is not None:
        expected.append(at - sent_at)
        checks += 1
        at = next_check(sent_at, checks, at)
    assert expected[:6] == [600, 1800, 4200, 9000, 18600, 37800]
    assert expected[-1] <= 72 * 3600 and len(expected) == 16
    asked_at = []
    for step in range(1, 72 * 3600 + 3600, 300):  # a queue run every 5 minutes
        shop.clock.advance(300 if step > 1 else 0)
        if shop.runtime.deliveries.poll().due:
            asked_at.append(int(shop.clock()) - sent_at)
    assert asked_at == [(a + 299) // 300 * 300 for a in expected]
    rows = [r for r in shop.rows(cid) if r["status"] == "sent"]
    assert {(r["delivery_status"], r["delivery_checks"], r["delivery_check_at"])
            for r in rows} == {("queued", len(expected), None)}


def test_a_poll_is_bounded_and_takes_the_longest_waiting_first(shop: Shop) -> None:
    first = shop.sent_campaign()
    shop.clock.advance(60)
    second = shop.sent_campaign()  # the same numbers, a minute later: due after the first
    shop.clock.advance(600)
    total = sum(r["status"] == "sent" for c in (first, second) for r in shop.rows(c))
    assert total > 50
    report = shop.runtime.deliveries.poll(limit=20)
    assert report.due == 20
    older = [r for r in shop.rows(first) if r["delivery_checks"] == 1]
    assert len(older) == 20 and not any(r["delivery_checks"] for r in shop.rows(second))
    assert shop.runtime.deliveries.due() == total - 20
    while shop.runtime.deliveries.poll(limit=20).due:
        pass
    assert shop.runtime.deliveries.due() == 0 and fetches(shop) == total


def test_rows_sent_before_delivery_tracking_are_asked_about(shop: Shop) -> None:
    """What revision 0003 leaves: no delivery status, first check 10 minutes after the
    recorded send; those sent more than 72 h before the poll are given up."""
    cid = shop.sent_campaign()
    sent = [r for r in shop.rows(cid) if r["status"] == "sent"]
    r = shop.runtime.tables.recipients
    old = sent[:5]  # sent four days ago
    with shop.engine.begin() as conn:
        conn.execute(update(r).where(r.c.campaign_id == cid, r.c.status == "sent").values(
            delivery_status=None, delivery_check_at=r.c.sent_at + 600))
        conn.execute(update(r).where(r.c.id.in_([x["id"] for x in old])).values(
            sent_at=r.c.sent_at - 4 * 86400, delivery_check_at=r.c.sent_at - 4 * 86400 + 600))
    shop.clock.advance(600)
    report = shop.runtime.deliveries.poll()
    assert (report.gave_up, report.due) == (5, len(sent) - 5)
    fates = truth(shop)
    for row in shop.rows(cid):
        if row["status"] != "sent":
            continue
        if row["id"] in {x["id"] for x in old}:
            assert (row["delivery_status"], row["delivery_check_at"]) == (None, None)
        else:
            assert row["delivery_status"] == fates[row["provider_message_id"]][0]


def test_every_queue_run_polls_a_few(shop: Shop) -> None:
    cid = shop.sent_campaign()
    shop.clock.advance(600)
    report = shop.runtime.outbox.run_queue()
    assert report.polled is not None and report.polled.due == len(
        [r for r in shop.rows(cid) if r["status"] == "sent"])
    assert shop.runtime.campaigns.get(None, cid)["delivered"] == report.polled.delivered > 0


def test_a_provider_that_cannot_be_asked_costs_a_check_not_a_crash(shop: Shop) -> None:
    cid = shop.sent_campaign()
    shop.clock.advance(600)
    with shop.fake.__class__("AC" + "1" * 32, "x" * 32) as elsewhere:
        gone = elsewhere.base_url  # a fake that has stopped by the time it is asked
    down = TwilioProvider("AC" + "1" * 32, "x" * 32, "+15005550006", base_url=gone,
                          timeout=5)
    report = shop.runtime.outbox.poller.poll(down)
    sent = [r for r in shop.rows(cid) if r["status"] == "sent"]
    assert (report.due, report.errors, report.changed) == (len(sent), len(sent), 0)
    assert {(r["delivery_status"], r["delivery_checks"], r["delivery_check_at"] - r["sent_at"])
            for r in sent} == {("queued", 1, 600 + 1200)}  # asked again 20 minutes on
    shop.clock.advance(1200)
    assert shop.runtime.deliveries.poll().changed == len(sent)


def _cli(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    env.update(shop.env)
    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_deliveries_poll_then_campaigns_show_and_logs_export(sqlite_url: str, engine_for,
                                                                 tmp_path: Path) -> None:
    """The commands run on the real clock: the campaign is sent by them, then its rows are
    moved 11 minutes into the past (relative to when they were sent, not to any clock)."""
    shop = open_shop(sqlite_url, engine_for(sqlite_url), customers=20,
                     fake_options={"delivery": FATES, "clock": time.time})
    try:
        cid = shop.create()
        assert _cli(shop, "campaigns", "send", str(cid)).returncode == 0
        while json.loads(_cli(shop, "campaigns", "show", str(cid), "--json").stdout)[
                "status"] != "completed":
            assert _cli(shop, "tick").returncode == 0
        sent = len(shop.fake.received())
        early = json.loads(_cli(shop, "deliveries", "poll", "--json").stdout)
        assert (early["due"], early["due_now"]) == (0, 0)  # not 10 minutes yet
        r = shop.runtime.tables.recipients
        with shop.engine.begin() as conn:
            conn.execute(update(r).where(r.c.campaign_id == cid, r.c.status == "sent").values(
                sent_at=r.c.sent_at - 660, delivery_check_at=r.c.delivery_check_at - 660))
        polled = _cli(shop, "deliveries", "poll", "--json")
        assert polled.returncode == 0, polled.stderr
        report = json.loads(polled.stdout)
        fates = Counter(m.status for m in shop.fake.received())
        assert report == {"due": sent, "checked": sent, "changed": sent,
                          "delivered": fates["delivered"],
                          "undelivered": fates["undelivered"] + fates["failed"],
                          "errors": 0, "gave_up": 0, "due_now": 0}
        shown = json.loads(_cli(shop, "campaigns", "show", str(cid), "--json").stdout)
        assert (shown["delivered"], shown["undelivered"]) == (report["delivered"],
                                                              report["undelivered"])
        text = _cli(shop, "deliveries", "poll").stdout
        assert text.startswith("delivery poll: asked about 0 message(s)")
        out = tmp_path / "not-delivered.csv"
        exported = _cli(shop, "logs", "export", str(cid), "--delivery", "not_delivered",
                        "--output", str(out))
        assert exported.returncode == 0, exported.stderr
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        assert len(rows) == report["undelivered"]
        assert rows and {r["delivery_status"] for r in rows} <= {"undelivered", "failed"}
        assert all(r["delivery_error"].endswith(")") for r in rows)
    finally:
        shop.runtime.close()
        shop.fake.stop()
