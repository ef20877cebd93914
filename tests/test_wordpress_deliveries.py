"""Twilio's status callbacks through a real WordPress, end to end (DESIGN.md §10).

The fake Twilio posts its signed callbacks to the bridge's public route on WordPress
(`php -S`), the bridge relays them to the sidecar (through tests/wp_e2e_support.py's
recording proxy), the database moves, and the logs page in Chromium shows "Delivered". A
forged signature, or a real callback replayed with a change, is refused by the sidecar and
passed back by WordPress as 403 with nothing changed. Twilio's HMAC-SHA256 variant gets
through the bridge, which forwards the header that names it.

No BKNTC_SMS_PUBLIC_URL: the sidecar's public base is the option the bridge wrote on
activation, so the messages' StatusCallback points at WordPress. Waits are on conditions
(the fake's callbacks_done(), rows), never on durations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.providers.twilio import OPT_OUT_CODES
from tests.a11y_support import audit
from tests.conftest import MariaDBServer
from tests.webhook_support import status_form, twilio_signed
from tests.wp_e2e_support import Site, bring_up, page_ready

pytestmark = pytest.mark.slow  # a WordPress under php -S, Chromium

STATUS = "/wp-json/bkntc-sms/v1/twilio/status"
FORM = "application/x-www-form-urlencoded"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
SHA256_SETTINGS = "key=KS0123456789abcdef0123456789abcdef,algorithm=HMAC_SHA256"
# Callbacks as they come from Twilio: some twice, some final before "sent".
LIVELY = DeliveryRules(duplicate_rate=0.3, out_of_order_rate=0.3, seed=14)
SILENT = DeliveryRules(callbacks=False)  # rows a test moves by its own callbacks only


@pytest.fixture(scope="module")
def single(mariadb: MariaDBServer) -> Iterator[Site]:
    yield from bring_up(mariadb, "single")


@pytest.fixture(autouse=True)
def no_php_messages_from_the_bridge(single: Site) -> Iterator[None]:
    """Not one PHP error, warning, notice or deprecation names the plugin."""
    yield
    single.assert_no_bridge_messages()


def status_url(site: Site) -> str:
    return site.wp.url + STATUS


def send_campaign(site: Site, name: str, rules: DeliveryRules,
                  fates: dict[int, tuple[str, int | None]] | None = None) -> int:
    """A campaign of the `repeat` segment sent to the fake, whose messages get `rules`, and
    the fixed fate `fates[n]` for the n-th recipient (by id)."""
    runtime = site.runtime
    cid = int(runtime.campaigns.create(None, {"name": name, "segment": "repeat",
                                              "body": f"{name}: thanks for coming back!"})["id"])
    runtime.campaigns.send(None, cid)  # the snapshot: the recipients and their numbers
    phones = [r["phone"] for r in rows(site, cid)]
    outcomes = {phones[n]: fate for n, fate in (fates or {}).items()}
    site.fake.delivery = replace(rules, outcomes=outcomes)
    runtime.outbox.drain(cid)
    sent = [r for r in rows(site, cid) if r["status"] == "sent"]
    assert len(sent) >= 5 and all(r["provider_message_id"] for r in sent)
    return cid


def rows(site: Site, cid: int) -> list[dict[str, Any]]:
    r = site.runtime.tables.recipients
    with site.runtime.engine.connect() as conn:
        return [dict(x) for x in conn.execute(select(r).where(r.c.campaign_id == cid)
                                              .order_by(r.c.id)).mappings()]


def state(site: Site) -> tuple[Any, ...]:
    """Everything a status callback could change: every recipient's delivery columns, the
    campaigns' counters, the daily figures and the statuses held for unknown messages."""
    t = site.runtime.tables
    r, c = t.recipients, t.campaigns
    with site.runtime.engine.connect() as conn:
        return (
            conn.execute(select(r.c.id, r.c.delivery_status, r.c.delivered_at,
                                r.c.delivery_error_code, r.c.delivery_check_at)
                         .order_by(r.c.id)).all(),
            conn.execute(select(c.c.id, c.c.delivered, c.c.undelivered).order_by(c.c.id)).all(),
            conn.execute(select(t.daily).order_by(*t.daily.primary_key.columns)).all(),
            conn.execute(select(func.count()).select_from(t.early_statuses)).scalar_one(),
        )


def post(site: Site, body: bytes, headers: dict[str, str]) -> requests.Response:
    """POST a webhook to WordPress as Twilio would (the bridge adds X-Bkntc-Public-Url)."""
    headers = {k: v for k, v in headers.items() if k != "X-Bkntc-Public-Url"}
    return requests.post(status_url(site), data=body, timeout=60,
                         headers={"Content-Type": FORM, **headers})


def relayed_since(site: Site, before: int) -> list[dict[str, Any]]:
    return [s for s in site.recorder.seen[before:] if s["path"] == "/twilio/status"]


# -- the whole path -------------------------------------------------------------------------


def test_twilios_callbacks_through_wordpress_show_delivered_in_the_logs_page(
        single: Site, browser: Browser) -> None:
    wp, fake = single.wp, single.fake
    cid = send_campaign(single, "Callbacks via WordPress", LIVELY,
                        fates={1: ("undelivered", 30005), 3: ("failed", 30007)})
    sids = {r["provider_message_id"] for r in rows(single, cid) if r["status"] == "sent"}
    messages = [m for m in fake.received() if m.sid in sids]
    # The base the bridge wrote on activation, under WordPress's own REST URL.
    assert wp.get_option("bkntc_sms_public_base_url") + "twilio/status" == status_url(single)
    assert {m.status_callback for m in messages} == {status_url(single)}
    assert {r["delivery_status"] for r in rows(single, cid)} <= {"queued", None}

    before = len(single.recorder.seen)
    dispatched = fake.flush_callbacks()
    assert dispatched > 3 * len(messages)  # queued, sent, final; some twice
    assert fake.callbacks_done(300)
    attempts = [a for a in fake.callbacks() if a.sid in sids]
    assert len(attempts) == dispatched
    assert {(a.url, a.http_status) for a in attempts} == {(status_url(single), 204)}
    # Every one went through WordPress to the sidecar, bridge-signed as Twilio.
    relayed = relayed_since(single, before)
    assert len(relayed) == dispatched
    assert all(s["answer"]["status"] == 204 and "X-Bkntc-Signature" in s["headers"]
               for s in relayed)

    fates = {m.sid: (m.status, m.error_code) for m in fake.received() if m.sid in sids}
    assert Counter(status for status, _ in fates.values()) == Counter(
        delivered=len(sids) - 2, undelivered=1, failed=1)
    after = rows(single, cid)
    assert {r["provider_message_id"]: (r["delivery_status"], r["delivery_error_code"])
            for r in after if r["status"] == "sent"} == fates
    campaign = single.runtime.campaigns.get(None, cid)
    assert (campaign["delivered"], campaign["undelivered"]) == (len(sids) - 2, 2)

    # What the owner sees: the campaign's logs page, inside Booknetic's panel.
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        wp.login(page, "admin")
        page.goto(wp.panel_url())
        page.click("#bkntc-menu-sms_campaigns")
        frame = page.frame_locator("#bkntc-sms-frame")
        logs = frame.locator(f'#campaign-table tr[data-id="{cid}"] a[data-action=logs]')
        expect(logs).to_be_visible(timeout=30000)
        frame = page_ready(page)
        logs.click()
        expect(frame.locator("body[data-page=logs] h1")).to_have_text(campaign["name"])
        shown = after[:50]  # the first page
        words = {"delivered": "Delivered", "undelivered": "Not delivered",
                 "failed": "Not delivered", None: ""}
        listed = " the number was added to the suppression list"
        expected = [words[r["delivery_status"]]
                    + (f" {r['delivery_error']}" if r["delivery_error"] else "")
                    + (f";{listed}" if r["delivery_error_code"] in OPT_OUT_CODES else "")
                    for r in shown]
        cells = frame.locator("#log-table td[data-delivery]")
        expect(cells).to_have_text(expected)
        assert [c.get_attribute("data-delivery") for c in cells.all()] == [
            r["delivery_status"] or "" for r in shown]
        delivered = frame.locator(f'#log-table tr:has-text("{shown[0]["phone"]}") '
                                  "td[data-delivery]")
        expect(delivered).to_have_text("Delivered")
        undelivered = frame.locator(f'#log-table tr:has-text("{shown[1]["phone"]}") '
                                    "td[data-delivery]")
        expect(undelivered).to_have_text("Not delivered unknown number: it does not exist or "
                                         f"is no longer in service (Twilio 30005);{listed}")
        # As it says: 30005 put the number on the list; 30007 (spam filter) did not.
        on_list = {row["phone"] for row in single.runtime.suppressions.list(None, limit=500)[0]}
        assert shown[1]["phone"] in on_list and shown[3]["phone"] not in on_list
        # The head counts the reports, so "0 failed" does not read as "all arrived".
        expect(frame.locator("#delivery-summary")).to_have_text(
            f"Delivery reports: {len(sids) - 2} delivered · 2 not delivered · "
            "0 awaiting a report")
        # The owner can list just the ones that did not arrive, and download them.
        frame.locator("#log-delivery").select_option("not_delivered")
        with page.expect_response(lambda r: "delivery=not_delivered" in r.url):
            frame.locator("#log-search button[type=submit]").click()
        missed = [r for r in after if r["delivery_status"] in ("undelivered", "failed")]
        expect(frame.locator("#log-table tbody td:nth-child(2)")).to_have_text(
            [r["phone"] for r in missed])
        expect(frame.locator("#log-table + p")).to_have_text("2 rows match.")
        expect(frame.locator("#log-delivery")).to_have_value("not_delivered")
        assert "delivery%3Dnot_delivered" in (
            frame.locator("#download-csv").get_attribute("href") or "")
        audit(page, "logs filtered by delivery")
    finally:
        page.close()


# -- refused through WordPress, nothing changed ---------------------------------------------


def test_a_forged_or_altered_callback_through_wordpress_is_403_and_changes_nothing(
        single: Site) -> None:
    cid = send_campaign(single, "Forgeries", SILENT)
    target, other = (r["provider_message_id"] for r in rows(single, cid)[:2])
    token, url = single.fake.auth_token, status_url(single)
    form = status_form(target, "delivered")
    unsigned = urlencode(form).encode()
    forgeries = {
        "no signature": (unsigned, {}),
        "empty signature": (unsigned, {"X-Twilio-Signature": ""}),
        "another account's token": twilio_signed("f" * 32, form, url=url),
        "signed for another URL": twilio_signed(token, form, url=url,
                                                signed_url=url.replace("/v1/", "/v2/")),
        "signed for another body": twilio_signed(
            token, form, url=url, signed_form={**form, "MessageStatus": "undelivered"}),
    }
    # A real callback the fake signed, replayed through WordPress with a change.
    seen = len(single.recorder.seen)
    assert single.fake.send_status_callbacks("sent", sids=[other]) == 1
    (real,) = relayed_since(single, seen)
    assert real["answer"]["status"] == 204
    real_headers = {"X-Twilio-Signature": real["headers"]["X-Twilio-Signature"]}
    assert b"MessageStatus=sent" in real["body"]
    forgeries["a real callback, altered"] = (
        real["body"].replace(b"MessageStatus=sent", b"MessageStatus=delivered")
        .replace(b"SmsStatus=sent", b"SmsStatus=delivered"), real_headers)
    forgeries["a real callback, for another message"] = (
        real["body"].replace(other.encode(), target.encode()), real_headers)

    before, seen = state(single), len(single.recorder.seen)
    for name, (body, headers) in forgeries.items():
        response = post(single, body, headers)
        assert response.status_code == 403, (name, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), name
        assert response.json()["error"]["code"] == "twilio_signature", name
    # Each reached the sidecar (WordPress decides nothing) and was refused there.
    relayed = relayed_since(single, seen)
    assert [s["answer"]["status"] for s in relayed] == [403] * len(forgeries)
    assert state(single) == before

    # The same real callback unchanged is answered, and changes nothing either (a repeat).
    assert post(single, real["body"], real_headers).status_code == 204
    assert state(single) == before
    # The control: the callback the forgeries imitated, signed by Twilio, does move the row.
    assert post(single, *twilio_signed(token, form, url=url)).status_code == 204
    moved = {r["provider_message_id"]: r for r in rows(single, cid)}[target]
    assert moved["delivery_status"] == "delivered"
    assert single.runtime.campaigns.get(None, cid)["delivered"] == 1


def test_the_sha256_signature_variant_gets_through_wordpress(single: Site) -> None:
    """Twilio names HMAC-SHA256 in X-Twilio-Webhooks-Signature-Settings; the bridge passes
    the header on, so the sidecar checks the signature with that algorithm."""
    cid = send_campaign(single, "SHA-256", SILENT)
    sid = rows(single, cid)[0]["provider_message_id"]
    token, url = single.fake.auth_token, status_url(single)
    form = status_form(sid, "delivered")
    body = urlencode(form).encode()
    validator = RequestValidator(token)
    sha1 = validator.compute_signature(url, form)
    sha256 = validator.compute_signature(url, form, algorithm="HMAC_SHA256")
    assert sha256 != sha1

    before, seen = state(single), len(single.recorder.seen)
    # A SHA-1 signature under a header that says SHA-256, and the other way round.
    for headers in ({"X-Twilio-Signature": sha1, SETTINGS_HEADER: SHA256_SETTINGS},
                    {"X-Twilio-Signature": sha256}):
        response = post(single, body, headers)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "twilio_signature"
    assert state(single) == before

    response = post(single, body, {"X-Twilio-Signature": sha256,
                                   SETTINGS_HEADER: SHA256_SETTINGS})
    assert response.status_code == 204, response.text
    relayed = relayed_since(single, seen)
    assert [s["headers"].get(SETTINGS_HEADER) for s in relayed] == [
        SHA256_SETTINGS, None, SHA256_SETTINGS]
    moved = {r["provider_message_id"]: r for r in rows(single, cid)}[sid]
    assert moved["delivery_status"] == "delivered"
