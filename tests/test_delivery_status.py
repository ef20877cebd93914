"""Delivery status per recipient (DESIGN.md §10; the row protocol's step 4): statuses only
move forward, repeats and late or out-of-order ones change nothing, the campaign's
delivered/undelivered counters and the daily statistics always equal what the rows say —
also with many writers at once — and a status that comes before its batch is recorded is
applied when it is. Real MariaDB and SQLite, the fake Twilio over HTTP, the service the web
route calls (tests/test_twilio_webhooks.py covers the route itself).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from sidecar.deliveries import CallbackResult
from sidecar.providers.base import DeliveryStatus, DeliveryUpdate
from sidecar.providers.twilio import delivery_update
from tests.shop import Shop, open_shop
from tests.web_support import wait_for
from tests.webhook_support import message_sid

D, U, F, Q, S = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED,
                 DeliveryStatus.QUEUED, DeliveryStatus.SENT)


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), customers=30,
                  env={"BKNTC_SMS_BATCH_SIZE": "10"})
    yield s
    s.runtime.close()
    s.fake.stop()


def update(sid: str, status: DeliveryStatus, at: int, code: int | None = None) -> DeliveryUpdate:
    made = delivery_update(sid, status.value, code, at)  # worded by the provider
    assert made is not None
    return made


def assert_counters_equal_rows(shop: Shop, cid: int) -> Counter[str | None]:
    """The campaign's counters and the daily statistics say what its rows say."""
    rows = shop.rows(cid)
    by_status = Counter(r["delivery_status"] for r in rows)
    campaign = shop.runtime.campaigns.get(None, cid)
    assert (campaign["delivered"], campaign["undelivered"]) == (
        by_status["delivered"], by_status["undelivered"] + by_status["failed"]), by_status
    d = shop.runtime.tables.daily
    with shop.engine.connect() as conn:
        daily = conn.execute(select(d.c.day, d.c.delivered, d.c.undelivered)).all()
    expected: Counter[tuple[int, str]] = Counter()
    for r in rows:
        if r["delivery_status"] in ("delivered", "undelivered", "failed"):
            kind = "delivered" if r["delivery_status"] == "delivered" else "undelivered"
            expected[(r["sent_at"] // 86400, kind)] += 1
    got = Counter({(day, "delivered"): n for day, n, _ in daily if n}) + Counter(
        {(day, "undelivered"): n for day, _, n in daily if n})
    assert got == expected
    return by_status


def test_a_sent_row_starts_queued_with_its_first_check_ten_minutes_on(shop: Shop) -> None:
    cid = shop.sent_campaign()
    sent = [r for r in shop.rows(cid) if r["status"] == "sent"]
    assert sent and {(r["delivery_status"], r["delivery_check_at"] - r["sent_at"],
                      r["delivery_checks"], r["delivered_at"]) for r in sent} == {
        ("queued", 600, 0, None)}
    assert assert_counters_equal_rows(shop, cid)["queued"] == len(sent)


def test_statuses_only_move_forward(shop: Shop) -> None:
    cid = shop.sent_campaign()
    [one, two, three, *_] = [r for r in shop.rows(cid) if r["status"] == "sent"]
    service, now = shop.runtime.deliveries, int(shop.clock())
    sid1, sid2, sid3 = (r["provider_message_id"] for r in (one, two, three))
    steps = [
        (update(sid1, S, now + 1), CallbackResult.APPLIED),
        (update(sid1, D, now + 5), CallbackResult.APPLIED),
        (update(sid1, D, now + 9), CallbackResult.UNCHANGED),  # twice: the first stands
        (update(sid1, S, now + 10), CallbackResult.UNCHANGED),  # late
        (update(sid1, U, now + 11, 30003), CallbackResult.UNCHANGED),  # final is final
        (update(sid2, U, now + 3, 30007), CallbackResult.APPLIED),  # before "sent"...
        (update(sid2, S, now + 4), CallbackResult.UNCHANGED),  # ...which comes late
        (update(sid2, Q, now + 4), CallbackResult.UNCHANGED),
        (update(sid3, F, now + 2, 30008), CallbackResult.APPLIED),
        (update(sid3, D, now + 6), CallbackResult.UNCHANGED),
    ]
    for made, expected in steps:
        assert service.record_callback(made) is expected, made
    got = {r["id"]: r for r in shop.rows(cid)}
    assert (got[one["id"]]["delivery_status"], got[one["id"]]["delivered_at"],
            got[one["id"]]["delivery_error_code"]) == ("delivered", now + 5, None)
    assert (got[two["id"]]["delivery_status"], got[two["id"]]["delivery_error_code"],
            got[two["id"]]["delivery_error"]) == (
        "undelivered", 30007, "filtered by the carrier as spam (Twilio 30007)")
    assert (got[three["id"]]["delivery_status"], got[three["id"]]["delivery_error"]) == (
        "failed", "unknown error at the carrier (Twilio 30008)")
    assert all(got[r["id"]]["delivery_check_at"] is None for r in (one, two, three))
    by_status = assert_counters_equal_rows(shop, cid)
    assert (by_status["delivered"], by_status["undelivered"], by_status["failed"]) == (1, 1, 1)
    campaign = shop.runtime.campaigns.get(None, cid)
    assert (campaign["delivered"], campaign["undelivered"]) == (1, 2)


def test_delivered_counts_on_the_day_the_message_was_sent(shop: Shop) -> None:
    cid = shop.sent_campaign()
    row = next(r for r in shop.rows(cid) if r["status"] == "sent")
    shop.clock.advance(86400)  # delivered the next day (a phone that was off overnight)
    shop.runtime.deliveries.record_callback(
        update(row["provider_message_id"], D, int(shop.clock())))
    d = shop.runtime.tables.daily
    with shop.engine.connect() as conn:
        days = {r.day: (r.sent, r.delivered) for r in conn.execute(select(d))}
    sent_day = row["sent_at"] // 86400
    assert days[sent_day][1] == 1 and days.get(sent_day + 1, (0, 0))[1] == 0
    assert_counters_equal_rows(shop, cid)


def test_many_writers_at_once_count_each_row_once(shop: Shop) -> None:
    """Eight threads apply the same shuffled statuses (callbacks, repeats, the poller's
    answers) to the same rows: each row moves once, the counters equal the rows."""
    cid = shop.sent_campaign()
    sent = [r for r in shop.rows(cid) if r["status"] == "sent"]
    now = int(shop.clock())
    finals = [(D, None), (U, 30003), (F, 30005)]
    updates = []
    for n, row in enumerate(sent):
        status, code = finals[n % 3]
        updates += [update(row["provider_message_id"], S, now + 1),
                    update(row["provider_message_id"], status, now + 2, code)]
    start = threading.Barrier(8)

    def writer(k: int) -> None:
        start.wait()
        mine = updates[k % 2::2] + updates[(k + 1) % 2::2]  # finals first in half of them
        for made in (mine if k % 3 else list(reversed(mine))):
            if k % 2:
                shop.runtime.deliveries.record_callback(made)
            else:
                shop.runtime.outbox.deliveries.apply([made])

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(writer, k) for k in range(8)]:
            future.result()
    by_status = assert_counters_equal_rows(shop, cid)
    assert by_status["delivered"] + by_status["undelivered"] + by_status["failed"] == len(sent)
    assert by_status["delivered"] == len(sent[0::3])


def test_a_status_that_beats_its_batch_is_applied_when_the_batch_is_recorded(
        shop: Shop) -> None:
    """Twilio can call back before the batch holding the message is recorded (the message
    id reaches the row only then): the status waits, and the batch's transaction applies
    it — counters included."""
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.fake.hold(after=3)  # three messages accepted, the fourth of the batch waits
    sending = threading.Thread(target=shop.runtime.outbox.drain, args=(cid,),
                               kwargs={"max_batches": 1})
    sending.start()
    try:
        wait_for(lambda: shop.fake.stats.held == 1, what="the batch to be mid-send")
        early = shop.fake.received()
        assert len(early) == 3 and all(r["provider_message_id"] is None
                                       for r in shop.rows(cid))
        now = int(shop.clock())
        results = [shop.runtime.deliveries.record_callback(update(early[0].sid, D, now)),
                   shop.runtime.deliveries.record_callback(update(early[1].sid, S, now)),
                   shop.runtime.deliveries.record_callback(update(early[1].sid, U, now,
                                                                  30006))]
        assert results == [CallbackResult.HELD] * 3
    finally:
        shop.fake.release()
        sending.join()
    got = {r["provider_message_id"]: r for r in shop.rows(cid)}
    assert got[early[0].sid]["delivery_status"] == "delivered"
    assert (got[early[1].sid]["delivery_status"], got[early[1].sid]["delivery_error_code"]) \
        == ("undelivered", 30006)
    assert got[early[2].sid]["delivery_status"] == "queued"
    assert_counters_equal_rows(shop, cid)
    e = shop.runtime.tables.early_statuses
    with shop.engine.connect() as conn:
        assert conn.execute(select(e)).all() == []  # taken by the batch


def test_statuses_for_messages_nobody_has_are_forgotten_after_an_hour(shop: Shop) -> None:
    service = shop.runtime.deliveries
    sid = message_sid()  # a test SMS's, say: no recipient row will ever have it
    assert service.record_callback(update(sid, D, int(shop.clock()))) is CallbackResult.HELD
    e = shop.runtime.tables.early_statuses
    with shop.engine.connect() as conn:
        assert conn.execute(select(e.c.message_sid)).scalars().all() == [sid]
    shop.clock.advance(3599)
    service.poll()
    with shop.engine.connect() as conn:
        assert conn.execute(select(e.c.message_sid)).scalars().all() == [sid]
    shop.clock.advance(2)
    service.poll()
    with shop.engine.connect() as conn:
        assert conn.execute(select(e.c.message_sid)).scalars().all() == []


def test_editing_or_resending_a_campaign_resets_its_delivery_counters(shop: Shop) -> None:
    cid = shop.sent_campaign()
    rows = [r for r in shop.rows(cid) if r["status"] == "sent"]
    for r in rows[:2]:
        shop.runtime.deliveries.record_callback(update(r["provider_message_id"], D,
                                                       int(shop.clock())))
    assert shop.runtime.campaigns.get(None, cid)["delivered"] == 2
    copy = shop.runtime.campaigns.duplicate(None, cid)
    assert (copy["delivered"], copy["undelivered"]) == (0, 0)
    # A late callback for a message of logs that are gone changes nothing anywhere.
    shop.runtime.campaigns.delete(None, cid)
    assert shop.runtime.deliveries.record_callback(
        update(rows[2]["provider_message_id"], D, int(shop.clock()))) is CallbackResult.HELD
