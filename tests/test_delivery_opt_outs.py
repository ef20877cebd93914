"""Delivery errors that mean "never text this number" (DESIGN.md §10): a message Twilio
accepted that ends undelivered or failed with 30004, 30005, 30006 (or 21610) puts the number
on the suppression list of the campaign's tenant, source `provider`, in the transaction that
moves the row (sidecar/outbox/delivery_rows.py → sidecar/opt_outs.py), and counts once in
the day's `opt_outs`. Other delivery errors suppress nothing; a repeated status adds
nothing. Both ways a status arrives: the fake Twilio's real signed callbacks through the
relay's public route to the sidecar over HTTP, and the poller.

A SaaS platform: the campaign belongs to tenant 2, whose customers have the numbers below;
tenants 1 and 3 must stay untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from sidecar.deliveries import CallbackResult
from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.providers.twilio import delivery_update
from sidecar.sample_data import set_option
from sidecar.segments import SegmentQuery
from sidecar.web import create_app
from sidecar.web.relay import PUBLIC_PREFIX, create_relay
from sidecar.web.server import BackgroundServer
from tests.shop import Shop, open_shop
from tests.web_support import SECRET

UNKNOWN, LANDLINE, FILTERED, BLOCKED = ("+16175550160", "+16175550161", "+16175550162",
                                        "+16175550163")
FATES = {UNKNOWN: ("undelivered", 30005), LANDLINE: ("failed", 30006),
         FILTERED: ("undelivered", 30007), BLOCKED: ("undelivered", 30004)}
REASONS = {UNKNOWN: "Unknown or inactive number (Twilio error 30005)",
           LANDLINE: "Landline or unreachable carrier (Twilio error 30006)",
           BLOCKED: "Blocked by the carrier or the recipient (Twilio error 30004)"}


def _saas(url: str, engine: Any, rules: DeliveryRules) -> Shop:
    shop = open_shop(url, engine, kind="saas", customers=24,
                     env={"BKNTC_SMS_BRIDGE_SECRET": SECRET},
                     fake_options={"delivery": rules})
    customers = shop.runtime.booknetic.customers
    theirs = shop.ds.customers_of(2)
    with shop.engine.begin() as conn:
        for person, number in zip(theirs[-len(FATES):], FATES, strict=True):
            conn.execute(update(customers).where(customers.c.id == person["id"])
                         .values(phone_number=number))
    return shop


def _send(shop: Shop) -> int:
    """A tenant-2 campaign to every customer with a phone, through queue runs."""
    runtime = shop.runtime
    cid = int(runtime.campaigns.create(2, {"name": "Spring", "segment": "all_with_phone",
                                           "body": "Hi {customer_first_name}"})["id"])
    runtime.campaigns.send(2, cid)
    while runtime.campaigns.get(2, cid)["status"] in ("queued", "sending"):
        runtime.outbox.run_queue()
    return cid


def _suppressions(shop: Shop) -> dict[tuple[int, str], tuple[str, str, int]]:
    s = shop.runtime.tables.suppressions
    with shop.engine.connect() as conn:
        return {(r.tenant_id, r.phone): (r.source, r.reason, r.created_at)
                for r in conn.execute(select(s))}


def _opt_outs(shop: Shop) -> dict[tuple[int, int], int]:
    d = shop.runtime.tables.daily
    with shop.engine.connect() as conn:
        return {(r.tenant_id, r.day): r.opt_outs for r in conn.execute(select(d)) if r.opt_outs}


def _sids(shop: Shop, cid: int) -> dict[str, str]:
    return {r["phone"]: r["provider_message_id"] for r in shop.rows(cid) if r["status"] == "sent"}


def _assert_suppressed_once(shop: Shop, cid: int, at: int) -> None:
    """The three opt-out codes suppressed their numbers in tenant 2, dated `at` and counted
    on its day; 30007 (filtered as spam) did not; every row has its carrier error."""
    rows = {r["phone"]: r for r in shop.rows(cid)}
    assert {n: (rows[n]["delivery_status"], rows[n]["delivery_error_code"])
            for n in FATES} == FATES
    assert _suppressions(shop) == {(2, n): ("provider", reason, at)
                                   for n, reason in REASONS.items()}
    assert _opt_outs(shop) == {(2, at // 86400): 3}
    assert shop.runtime.dashboard.summary(2)["opt_outs"] == 3
    assert shop.runtime.dashboard.summary(1)["opt_outs"] == 0
    # Tenant 2's next campaign leaves them out.
    preview = shop.runtime.segments.preview(SegmentQuery("all_with_phone", tenant_id=2))
    assert preview.skipped_suppressed == 3


@pytest.fixture
def relayed(mysql_url: str, engine_for) -> Iterator[Shop]:
    """Status callbacks as on a live site: the fake posts them to the relay's public route
    (the bridge's twin), which relays them to the sidecar served over HTTP."""
    rules = DeliveryRules(outcomes=FATES, duplicate_rate=1.0, seed=2)
    shop = _saas(mysql_url, engine_for(mysql_url), rules)
    sidecar = BackgroundServer(create_app(shop.runtime), threads=4).start()
    relay = BackgroundServer(create_relay(sidecar.url, lambda: SECRET, lambda request: None,
                                          clock=shop.clock), threads=4).start()
    set_option(shop.engine, "wp_", "bkntc_sms_public_base_url", relay.url + PUBLIC_PREFIX)
    yield shop
    shop.runtime.outbox.close()
    relay.stop()
    sidecar.stop()
    shop.fake.stop()


def test_status_callbacks_with_opt_out_codes_suppress_the_number(relayed: Shop) -> None:
    shop = relayed
    cid = _send(shop)
    assert _suppressions(shop) == {}  # Twilio accepted every message: nothing known yet
    assert shop.fake.flush_callbacks() > 0 and shop.fake.callbacks_done(120)
    attempts = shop.fake.callbacks()
    assert {a.http_status for a in attempts} == {204}
    sids = _sids(shop, cid)
    # Every message's callbacks came with one of them twice (duplicate_rate 1).
    assert len(attempts) == 4 * len(sids)
    _assert_suppressed_once(shop, cid, int(shop.clock()))

    # Twilio posting the final status again, later: nothing moves, nothing is added.
    before = _suppressions(shop), _opt_outs(shop), shop.rows(cid)
    shop.clock.advance(3600)
    assert shop.fake.send_status_callbacks("undelivered", 30005,
                                           sids=[sids[UNKNOWN], sids[FILTERED]]) == 2
    assert [a.http_status for a in shop.fake.callbacks()[-2:]] == [204, 204]
    assert (_suppressions(shop), _opt_outs(shop), shop.rows(cid)) == before


@pytest.fixture
def polled(any_url: str, engine_for) -> Iterator[Shop]:
    shop = _saas(any_url, engine_for(any_url), DeliveryRules(outcomes=FATES, callbacks=False))
    yield shop
    shop.runtime.outbox.close()
    shop.fake.stop()


def test_the_poller_with_opt_out_codes_suppresses_the_number(polled: Shop) -> None:
    shop = polled
    cid = _send(shop)
    shop.clock.advance(600)
    report = shop.runtime.deliveries.poll()
    assert report.checked == len(_sids(shop, cid)) and report.undelivered == len(FATES)
    _assert_suppressed_once(shop, cid, int(shop.clock()))

    # The same status again (a late callback after the poll): unchanged, nothing added.
    before = _suppressions(shop), _opt_outs(shop)
    shop.clock.advance(60)
    again = delivery_update(_sids(shop, cid)[UNKNOWN], "undelivered", 30005,
                            int(shop.clock()))
    assert again is not None
    assert shop.runtime.deliveries.record_callback(again) is CallbackResult.UNCHANGED
    assert shop.runtime.deliveries.poll().due == 0
    assert (_suppressions(shop), _opt_outs(shop)) == before


def test_a_number_already_on_the_list_is_not_counted_again(polled: Shop) -> None:
    """An admin listed one number after the campaign went out; the carrier then reports it
    unknown: the admin's row stays as it was and only the other numbers count."""
    shop = polled
    cid = _send(shop)
    manual = shop.runtime.suppressions.add(2, UNKNOWN, "asked at the desk", user_id=12)
    shop.clock.advance(600)
    shop.runtime.deliveries.poll()
    found = _suppressions(shop)
    assert found[(2, UNKNOWN)] == ("manual", "asked at the desk", manual["created_at"])
    assert {k: v[0] for k, v in found.items()} == {(2, UNKNOWN): "manual",
                                                   (2, LANDLINE): "provider",
                                                   (2, BLOCKED): "provider"}
    assert _opt_outs(shop) == {(2, int(shop.clock()) // 86400): 2}
    assert {r["phone"]: r["delivery_error_code"] for r in shop.rows(cid)}[UNKNOWN] == 30005
