"""Quiet hours (DESIGN.md §11): the window arithmetic at fixed instants across daylight-saving
changes, and the engine holding — never failing — the recipients outside their window, with
the fake Twilio recording each message's ValidityPeriod.

The engine tests run at the test clock's START, 2026-05-28 20:26:40 UTC: 16:26 in New York,
15:26 in Chicago (the business), 22:26 in Berlin, 05:26 in Tokyo.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from sidecar.delivery_log import iso
from sidecar.phones import normalise_phone
from sidecar.quiet_hours import (
    MAX_VALIDITY,
    decide,
    held_reason,
    next_window_start,
    window_at,
)
from sidecar.sample_data import set_option
from sidecar.tenant_settings import QuietHours
from tests.clock import START
from tests.shop import Shop, open_shop
from tests.test_cli import run_cli

DAY_HOURS = QuietHours("09:00", "20:00")
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())  # type: ignore[misc]


# -- the window, at fixed instants -------------------------------------------------------


@pytest.mark.parametrize(("zone", "now", "start", "end"), [
    # New York springs forward on 8 March 2026: 09:00 is 14:00 UTC the day before (EST),
    # 13:00 UTC that day (EDT).
    (NEW_YORK, utc(2026, 3, 7, 12), utc(2026, 3, 7, 14), utc(2026, 3, 8, 1)),
    (NEW_YORK, utc(2026, 3, 8, 2), utc(2026, 3, 8, 13), utc(2026, 3, 9, 0)),
    # ...and falls back on 1 November 2026: 09:00 is 13:00 UTC before, 14:00 UTC after.
    (NEW_YORK, utc(2026, 10, 31, 12), utc(2026, 10, 31, 13), utc(2026, 11, 1, 0)),
    (NEW_YORK, utc(2026, 11, 1, 1), utc(2026, 11, 1, 14), utc(2026, 11, 2, 1)),
    # Berlin springs forward on 29 March 2026 (09:00 = 08:00 UTC before, 07:00 UTC after)
    # and falls back on 25 October 2026 (07:00 UTC before, 08:00 UTC after).
    (BERLIN, utc(2026, 3, 28, 20), utc(2026, 3, 29, 7), utc(2026, 3, 29, 18)),
    (BERLIN, utc(2026, 3, 28, 7), utc(2026, 3, 28, 8), utc(2026, 3, 28, 19)),
    (BERLIN, utc(2026, 10, 24, 20), utc(2026, 10, 25, 8), utc(2026, 10, 25, 19)),
    # Berlin in November: the window after the change, an ordinary winter day.
    (BERLIN, utc(2026, 11, 1, 12), utc(2026, 11, 1, 8), utc(2026, 11, 1, 19)),
])
def test_window_across_daylight_saving_changes(zone: ZoneInfo, now: int, start: int,
                                               end: int) -> None:
    assert window_at(now, zone, DAY_HOURS) == (start, end)
    assert next_window_start(now, zone, DAY_HOURS) == max(start, now)


def test_a_window_edge_inside_the_spring_forward_gap() -> None:
    # 02:30 does not exist in New York on 8 March 2026 (02:00 EST → 03:00 EDT at 07:00 UTC):
    # the window opens at the first instant after the gap's start, and still ends at 05:00.
    start, end = window_at(utc(2026, 3, 8, 5), NEW_YORK, QuietHours("02:30", "05:00"))
    assert utc(2026, 3, 8, 7) <= start < end == utc(2026, 3, 8, 9)


def test_decide_sends_with_the_window_left_or_holds() -> None:
    chicago = ZoneInfo("America/Chicago")
    # 19:00 in Chicago (CDT, UTC-5): an hour left.
    assert decide(utc(2026, 5, 29, 0), chicago, DAY_HOURS).validity == 3600
    # 10:00: more than four hours left, capped.
    assert decide(utc(2026, 5, 28, 15), chicago, DAY_HOURS).validity == MAX_VALIDITY
    # 19:59:30: under a minute left, held until 09:00 the next day.
    late = decide(utc(2026, 5, 29, 0, 59, 30), chicago, DAY_HOURS)
    assert (late.hold_until, late.validity) == (utc(2026, 5, 29, 14), None)
    # 20:00 exactly is outside ([start, end)); 08:59 is held until 09:00 the same day.
    assert decide(utc(2026, 5, 29, 1), chicago, DAY_HOURS).hold_until == utc(2026, 5, 29, 14)
    assert decide(utc(2026, 5, 29, 13, 59), chicago, DAY_HOURS).hold_until == utc(
        2026, 5, 29, 14)
    # Quiet hours off: send, no ValidityPeriod.
    off = decide(utc(2026, 5, 29, 3), chicago, None)
    assert (off.hold_until, off.validity) == (None, None)
    assert held_reason(utc(2026, 5, 29, 14), chicago, "America/Chicago") == \
        "held until 09:00 America/Chicago"


# -- the engine --------------------------------------------------------------------------

# Each customer's appointments all carry one zone, by customer id; customers without an
# appointment are in the business zone (Chicago).
ZONE_SQL = ("UPDATE wp_bkntc_appointments SET client_timezone = CASE customer_id % 3 "
            "WHEN 0 THEN 'America/New_York' WHEN 1 THEN 'Europe/Berlin' "
            "ELSE 'Asia/Tokyo' END")
TOKYO_OPENS = utc(2026, 5, 29, 0)  # 09:00 JST
BERLIN_OPENS = utc(2026, 5, 29, 7)  # 09:00 CEST


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), quiet_hours=True,
                  env={"BKNTC_SMS_BATCH_SIZE": "10"})
    set_option(s.engine, "wp_", "timezone_string", "America/Chicago")
    with s.engine.begin() as conn:
        conn.execute(text(ZONE_SQL))
    # Twilio's magic test numbers fail on purpose: kept out, so "nothing failed" is exact.
    for phone in {normalise_phone(c["phone_number"]) for c in s.ds.customers}:
        if phone and phone.startswith("+1500555"):
            s.runtime.suppressions.add(None, phone, "magic test number")
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def _zones_by_phone(shop: Shop, campaign_id: int) -> dict[str, str]:
    booked = {a["customer_id"] for a in shop.ds.appointments}
    names = {0: "America/New_York", 1: "Europe/Berlin", 2: "Asia/Tokyo"}
    return {row["phone"]: (names[row["customer_id"] % 3] if row["customer_id"] in booked
                           else "America/Chicago") for row in shop.rows(campaign_id)}


def test_recipients_outside_their_window_are_held_then_sent(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    cid = shop.create()
    svc.send(None, cid)
    zones = _zones_by_phone(shop, cid)
    # The zone was resolved once, at snapshot (NULL = the business zone).
    assert {r["phone"]: r["timezone"] or "America/Chicago" for r in shop.rows(cid)} == zones
    assert shop.clock() == START
    by_zone = Counter(zones.values())
    assert all(by_zone[z] >= 3 for z in ("America/New_York", "Europe/Berlin", "Asia/Tokyo",
                                         "America/Chicago")), by_zone

    shop.runtime.outbox.run_queue()
    inside = {p for p, z in zones.items() if z in ("America/New_York", "America/Chicago")}
    assert shop.received_to() == Counter(inside)  # exactly these, once each
    validity = {m.to: m.validity_period for m in shop.fake.received()}
    # New York: 16:26:40, 3 h 33 min 20 s left; Chicago: 15:26:40, more than 4 h (capped).
    assert {validity[p] for p in inside if zones[p] == "America/New_York"} == {12_800}
    assert {validity[p] for p in inside if zones[p] == "America/Chicago"} == {MAX_VALIDITY}
    rows = {r["phone"]: r for r in shop.rows(cid)}
    for phone, zone in zones.items():
        row = rows[phone]
        if phone in inside:
            assert row["status"] == "sent"
            continue
        until = TOKYO_OPENS if zone == "Asia/Tokyo" else BERLIN_OPENS
        assert (row["status"], row["attempts"], row["next_attempt_at"], row["last_error"]) \
            == ("pending", 0, until, f"held until 09:00 {zone}"), phone
    progress = shop.assert_counters_match_rows(cid)
    assert progress["status"] == "sending" and progress["failed"] == 0
    assert progress["status_reason"] == (
        f"{by_zone['Asia/Tokyo']} held until 09:00 (Asia/Tokyo); "
        f"{by_zone['Europe/Berlin']} held until 09:00 (Europe/Berlin)")

    # A run a second before Tokyo's window opens sends nothing more.
    shop.clock.advance(TOKYO_OPENS - 1 - START)
    shop.runtime.outbox.run_queue()
    assert len(shop.fake.received()) == len(inside)
    shop.clock.advance(1)
    shop.runtime.outbox.run_queue()
    tokyo = {p for p, z in zones.items() if z == "Asia/Tokyo"}
    assert shop.received_to() == Counter(inside | tokyo)
    assert {m.validity_period for m in shop.fake.received() if m.to in tokyo} == {MAX_VALIDITY}
    berlin = by_zone["Europe/Berlin"]
    chunks, _ = shop.runtime.logs.export_csv(None, cid)
    table = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert Counter((r["status"], r["next_attempt_at"]) for r in table) == Counter(
        {("sent", ""): len(zones) - berlin, ("pending", iso(BERLIN_OPENS)): berlin})
    assert svc.progress(None, cid)["status_reason"] == \
        f"{berlin} held until 09:00 (Europe/Berlin)"
    shown = run_cli(shop.url, "campaigns", "show", str(cid))
    assert f"  {berlin} held until 09:00 (Europe/Berlin)" in shown.stdout.splitlines(), shown
    shown = json.loads(run_cli(shop.url, "campaigns", "show", str(cid), "--json").stdout)
    assert (shown["status"], shown["status_reason"], shown["held"]) == (
        "sending", f"{berlin} held until 09:00 (Europe/Berlin)", [
        {"count": berlin, "until": BERLIN_OPENS, "timezone": "Europe/Berlin",
         "text": f"{berlin} held until 09:00 (Europe/Berlin)"}])

    shop.clock.advance(BERLIN_OPENS - TOKYO_OPENS)
    shop.runtime.outbox.run_queue()
    assert shop.received_to() == Counter(list(zones))  # everybody, once
    done = shop.assert_counters_match_rows(cid)
    assert (done["status"], done["sent"], done["failed"], done["status_reason"]) == (
        "completed", len(zones), 0, "")


def test_turning_quiet_hours_off_or_widening_them_releases_held_rows(shop: Shop) -> None:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.outbox.run_queue()
    zones = _zones_by_phone(shop, cid)
    held = {p for p, z in zones.items() if z in ("Europe/Berlin", "Asia/Tokyo")}
    assert len(shop.fake.received()) == len(zones) - len(held)
    # 05:00-23:00 takes in Tokyo's 05:26 and Berlin's 22:26: released by the next run,
    # the clock unmoved.
    shop.runtime.tenant_settings.update(None, {"quiet_hours": {"start": "05:00",
                                                               "end": "23:00"}})
    shop.runtime.outbox.run_queue()
    assert shop.received_to() == Counter(list(zones))
    assert shop.runtime.campaigns.progress(None, cid)["status"] == "completed"

    second = shop.create()
    shop.runtime.tenant_settings.update(None, {"quiet_hours": {"start": "09:00",
                                                               "end": "20:00"}})
    shop.runtime.campaigns.send(None, second)
    shop.runtime.outbox.run_queue()
    assert "held until" in shop.runtime.campaigns.progress(None, second)["status_reason"]
    shop.runtime.tenant_settings.update(None, {"quiet_hours": None})
    shop.runtime.outbox.run_queue()
    second_sent = [m for m in shop.fake.received()[len(zones):]]
    assert Counter(m.to for m in second_sent) == Counter(list(zones))
    # Off: no ValidityPeriod on the messages sent after that.
    assert {m.validity_period for m in second_sent if m.to in held} == {None}
    assert shop.runtime.campaigns.progress(None, second)["status"] == "completed"
