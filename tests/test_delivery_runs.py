"""Deliveries end to end: the fake Twilio's real signed callbacks → the relay's public route
(the Python twin of the bridge) → the sidecar over HTTP → the database; campaigns whose
delivered/undelivered counts equal what the fake decided, with callbacks (some late, twice,
out of order, lost — the poller finds those) and with callbacks off (the poller only); and
the demo itself, where deliveries arrive on their own.

The public base URL comes from the WordPress option the bridge writes
(`bkntc_sms_public_base_url`), pointing at the relay. The clock is frozen except in the demo
(which runs on the real clock, as an operator's would; its waits are on conditions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sidecar.demo import start_demo
from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.sample_data import set_option
from sidecar.web import create_app
from sidecar.web.relay import PUBLIC_PREFIX, create_relay
from sidecar.web.server import BackgroundServer
from tests.shop import Shop, open_shop
from tests.web_support import SECRET, wait_for

MIXED = DeliveryRules(undelivered_rate=0.2, failed_rate=0.1, duplicate_rate=0.2,
                      out_of_order_rate=0.2, seed=8)


@dataclass
class Site:
    shop: Shop
    relay_url: str

    @property
    def status_url(self) -> str:
        return self.relay_url + PUBLIC_PREFIX + "twilio/status"


@pytest.fixture
def site(mysql_url: str, engine_for) -> Iterator[Site]:
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=60,
                     env={"BKNTC_SMS_BRIDGE_SECRET": SECRET})
    sidecar = BackgroundServer(create_app(shop.runtime), threads=4).start()
    relay = BackgroundServer(create_relay(sidecar.url, lambda: SECRET, lambda request: None,
                                          clock=shop.clock), threads=4).start()
    # What the bridge writes on activation: rest_url('bkntc-sms/v1/').
    set_option(shop.engine, "wp_", "bkntc_sms_public_base_url", relay.url + PUBLIC_PREFIX)
    yield Site(shop, relay.url)
    shop.runtime.outbox.close()
    relay.stop()
    sidecar.stop()
    shop.fake.stop()


def run_campaign(shop: Shop) -> int:
    """Send a campaign through queue runs (first batch, then the rest), as the worker does."""
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    while shop.runtime.campaigns.get(None, cid)["status"] in ("queued", "sending"):
        shop.runtime.outbox.run_queue()
    return cid


def decided(shop: Shop) -> tuple[int, int]:
    """(delivered, not delivered) as the fake decided them."""
    fates = Counter(m.status for m in shop.fake.received())
    return fates["delivered"], fates["undelivered"] + fates["failed"]


def counts(shop: Shop, cid: int) -> tuple[int, int]:
    campaign = shop.runtime.campaigns.get(None, cid)
    rows = Counter(r["delivery_status"] for r in shop.rows(cid))
    assert (campaign["delivered"], campaign["undelivered"]) == (
        rows["delivered"], rows["undelivered"] + rows["failed"])  # counters = rows
    return campaign["delivered"], campaign["undelivered"]


def test_signed_callbacks_through_the_relay_reach_the_database(site: Site) -> None:
    shop = site.shop
    shop.fake.delivery = MIXED
    cid = run_campaign(shop)
    messages = shop.fake.received()
    assert {m.status_callback for m in messages} == {site.status_url}
    assert counts(shop, cid) == (0, 0)  # nobody called back yet
    assert shop.fake.flush_callbacks() > len(messages) * 3  # some twice
    assert shop.fake.callbacks_done(120)
    attempts = shop.fake.callbacks()
    assert {a.http_status for a in attempts} == {204}
    assert Counter(a.status for a in attempts)["sent"] == len(messages)
    assert counts(shop, cid) == decided(shop)
    fates = {m.sid: (m.status, m.error_code) for m in messages}
    assert {r["provider_message_id"]: (r["delivery_status"], r["delivery_error_code"])
            for r in shop.rows(cid) if r["status"] == "sent"} == fates


def test_a_demo_like_run_with_callbacks_some_lost(site: Site) -> None:
    """Callbacks go out as messages settle, some never: the counts match the fake's
    decisions once the poller has asked about the rest, 10 minutes on."""
    shop = site.shop
    shop.fake.delivery = DeliveryRules(final_after=30, undelivered_rate=0.15, failed_rate=0.05,
                                       lost_rate=0.25, duplicate_rate=0.1,
                                       out_of_order_rate=0.1, seed=21)
    cid = run_campaign(shop)
    shop.fake.flush_callbacks()  # "queued" and "sent" at once...
    shop.clock.advance(30)
    shop.fake.flush_callbacks()  # ...the final ones 30 s later
    assert shop.fake.callbacks_done(120)
    lost = {m.sid for m in shop.fake.received()} - {a.sid for a in shop.fake.callbacks()}
    assert lost
    delivered, undelivered = counts(shop, cid)
    assert delivered + undelivered == len(shop.fake.received()) - len(lost)
    shop.clock.advance(600 - 30)
    report = shop.runtime.outbox.run_queue().polled
    assert report is not None and report.due == len(lost) and report.changed == len(lost)
    assert counts(shop, cid) == decided(shop)


def test_a_demo_like_run_with_callbacks_off_has_the_poller_only(site: Site) -> None:
    shop = site.shop
    shop.fake.delivery = DeliveryRules(undelivered_rate=0.2, failed_rate=0.1,
                                       callbacks=False, seed=9)
    cid = run_campaign(shop)
    assert shop.fake.flush_callbacks() == 0
    shop.clock.advance(600)
    shop.runtime.outbox.run_queue()
    assert shop.fake.callbacks() == []
    assert counts(shop, cid) == decided(shop) and sum(decided(shop)) == len(
        shop.fake.received())


def test_the_relay_relays_only_its_two_routes_and_small_bodies(site: Site) -> None:
    base = site.relay_url + PUBLIC_PREFIX
    session = requests.Session()
    too_big = session.post(base + "twilio/status", data={"Body": "x" * 70_000}, timeout=60)
    assert too_big.status_code == 413
    for path in ("twilio/other", "twilio/status/x", "api/v1/campaigns", "../bridge/tick"):
        assert session.post(base + path, data={"a": "b"}, timeout=60).status_code == 404
    assert session.get(base + "twilio/status", timeout=60).status_code == 405
    # Not from Twilio: relayed, and refused by the sidecar (nothing changes).
    forged = session.post(base + "twilio/status", data={"MessageSid": "SM" + "0" * 32,
                                                        "MessageStatus": "delivered"},
                          headers={"X-Twilio-Signature": "forged"}, timeout=60)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "twilio_signature"


def test_the_demo_shows_deliveries_arriving(tmp_path: Path) -> None:
    rules = DeliveryRules(queued_for=0.1, final_after=0.2, undelivered_rate=0.2, seed=3)
    demo = start_demo(tmp_path / "demo", fake_faults=False, delivery=rules)
    try:
        runtime = demo.runtime
        assert runtime.public_urls.status_callback() == (
            demo.url.rstrip("/") + PUBLIC_PREFIX + "twilio/status")
        cid = int(runtime.campaigns.create(None, {
            "name": "Demo deliveries", "segment": "upcoming_next_7",
            "body": "Hi {customer_first_name}, see you soon!"})["id"])
        runtime.campaigns.send(None, cid)
        runtime.outbox.kick(cid)

        def reported() -> dict[str, int] | None:
            shown = runtime.campaigns.get(None, cid)
            done = shown["status"] == "completed" and demo.fake.callbacks_done(0)
            return shown if done and shown["delivered"] + shown["undelivered"] == \
                shown["sent"] else None

        shown = wait_for(reported, timeout=180, what="every delivery report of the demo")
        fates = Counter(m.status for m in demo.fake.received())
        assert (shown["delivered"], shown["undelivered"]) == (
            fates["delivered"], fates["undelivered"] + fates["failed"])
        assert shown["delivered"] > 0 and shown["undelivered"] > 0
    finally:
        demo.stop()
