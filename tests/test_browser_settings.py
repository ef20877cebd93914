"""Browser tests of the Settings page and of the times every page shows (DESIGN.md §11).

Same harness as the other page tests (tests/browser_page_support.py): a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic page.
The stack's clock stands at START (2026-05-28 20:26:40 UTC), so every time a page shows is a
known instant in a known zone: a site on a WordPress UTC offset of +5:30, and a SaaS tenant
whose Booknetic timezone is America/Chicago (15:26 there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import Engine, select

from sidecar.zones import format_time, zone_named
from tests.a11y_support import audit
from tests.browser_page_support import (
    FEATURE_CUSTOMERS,
    assert_same_document,
    expect_focus,
    goto_tab,
    mark_document,
    open_sidecar,
    wait_for_new_document,
)
from tests.browser_support import (
    ALL_CAPS,
    SEND_TIMEOUT,
    Stack,
    call_api,
    row,
    running_stack,
    screenshot,
    wait_until,
)
from tests.clock import START

pytestmark = pytest.mark.slow  # a stack and Chromium per test

OFFSET_TEXT = "29 May 2026, 01:56 (UTC+05:30)"  # START on a site at UTC+5:30
CHICAGO_TEXT = "28 May 2026, 15:26 (America/Chicago)"  # START in the tenant's zone


@pytest.fixture
def site(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    """A single-site install whose WordPress has no timezone name, only a UTC offset."""
    with running_stack(mysql_url, engine_for(mysql_url), customers=FEATURE_CUSTOMERS,
                       quiet_hours=True) as s:
        s.set_option("timezone_string", "")
        s.set_option("gmt_offset", "5.5")
        yield s


@pytest.fixture
def saas(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    """A SaaS install, signed in as tenant 1's owner; the tenant's Booknetic timezone is
    America/Chicago (WordPress's own stays UTC). Quiet hours off: its campaign must finish,
    and at the frozen instant (20:26 UTC) recipients in European zones would be held."""
    with running_stack(mysql_url, engine_for(mysql_url), customers=60, kind="saas") as s:
        s.set_option("bkntc_t1_timezone", "America/Chicago")
        s.act_as(ALL_CAPS, tenant_id=1)
        yield s


def stored(stack: Stack, tenant: int = 0) -> dict[str, Any] | None:
    s = stack.runtime.tables.settings
    with stack.engine.connect() as conn:
        raw = conn.execute(select(s.c.settings).where(s.c.tenant_id == tenant)).scalar()
    return None if raw is None else json.loads(raw)


def field_error(frame: FrameLocator, name: str) -> Any:
    return frame.locator(f'#settings-form [data-error-for="{name}"]')


# -- the Settings page ---------------------------------------------------------------------


def test_settings_page_shows_validates_and_saves_in_place(page: Page, site: Stack) -> None:
    frame = open_sidecar(page, site)
    goto_tab(frame, "settings")
    expect(frame.locator("h1")).to_have_text("Settings")
    expect(frame.locator("#nav-settings")).to_have_attribute("aria-current", "page")
    expect(frame.locator("#settings-timezone")).to_contain_text(
        "Times are in UTC+05:30 (WordPress UTC offset).")
    # The defaults: quiet hours on 09:00-20:00, no cap (its fields off), 7 days, 0 %.
    expect(frame.locator("#st-quiet-on")).to_be_checked()
    expect(frame.locator("#st-quiet-start")).to_have_value("09:00")
    expect(frame.locator("#st-quiet-end")).to_have_value("20:00")
    expect(frame.locator("#st-cap-on")).not_to_be_checked()
    expect(frame.locator("#st-cap-max")).to_be_disabled()
    expect(frame.locator("#st-attribution")).to_have_value("7")
    expect(frame.locator("#st-holdout")).to_have_value("0")
    expect(frame.locator("#st-price")).to_have_value("")
    expect(frame.locator("#st-country option:checked")).to_have_text(
        "Booknetic's setting (currently: none)")
    screenshot(page, "settings")

    # A window that ends before it starts: the error sits at the "Until" field, which is
    # marked invalid and focused; nothing is stored.
    frame.locator("#st-quiet-end").fill("08:00")
    frame.locator("#st-price").fill("0.0100")
    mark_document(page)
    frame.locator("#settings-save").click()
    expect(field_error(frame, "quiet_hours.end")).to_have_text(
        "must be later than the start (09:00): the sending window is within one day")
    expect(frame.locator("#st-quiet-end")).to_have_attribute("aria-invalid", "true")
    expect_focus(frame, "#st-quiet-end")
    audit(page, "a field error")
    screenshot(page, "settings-error")
    assert stored(site) is None

    # Fixed, plus a cap, a country: saved in place; only what changed is stored.
    frame.locator("#st-quiet-end").fill("21:00")
    frame.locator("#st-cap-on").check()
    frame.locator("#st-cap-max").fill("2")
    frame.locator("#st-cap-days").fill("14")
    frame.locator("#st-country").select_option("GB")
    frame.locator("#settings-save").click()
    expect(frame.locator("#toast")).to_have_text("Settings saved.")
    assert_same_document(page)
    expect(field_error(frame, "quiet_hours.end")).to_have_text("")
    expect(frame.locator("#st-quiet-end")).not_to_have_attribute("aria-invalid", "true")
    expect(frame.locator("#st-price")).to_have_value("0.01")  # as stored
    assert stored(site) == {"quiet_hours": {"start": "09:00", "end": "21:00"},
                            "frequency_cap": {"max": 2, "days": 14},
                            "price_per_segment": "0.01", "default_country": "GB"}
    assert site.runtime.regions.region(None) == "GB"
    frame.locator("#settings-save").click()
    expect(frame.locator("#toast")).to_have_text("Nothing changed.")

    # Off is off: quiet hours unchecked saves null, and the page shows it after a reload.
    frame.locator("#st-quiet-on").uncheck()
    expect(frame.locator("#st-quiet-start")).to_be_disabled()
    frame.locator("#settings-save").click()
    expect(frame.locator("#toast")).to_have_text("Settings saved.")
    assert stored(site)["quiet_hours"] is None  # type: ignore[index]
    mark_document(page)
    page.reload()
    frame = page.frame_locator("#bkntc-sms-frame")
    expect(frame.locator("body[data-page=campaigns] h1")).to_have_text("Campaigns")
    goto_tab(frame, "settings")
    expect(frame.locator("#st-quiet-on")).not_to_be_checked()
    expect(frame.locator("#st-cap-max")).to_have_value("2")
    expect(frame.locator("#st-country")).to_have_value("GB")

    # Times on this site are at UTC+05:30, in the page and in the browser's own formatting.
    site.runtime.suppressions.add(None, "+12025550143", "asked at the desk")
    goto_tab(frame, "suppressions")
    expect(frame.locator('#suppress-table tr[data-phone="+12025550143"] td:nth-child(4)')
           ).to_have_text(OFFSET_TEXT)
    assert frame.locator("body").evaluate("() => BkntcSms.formatTime(1780000000)") == \
        OFFSET_TEXT


def test_the_browser_formats_times_as_the_server_does(page: Page, site: Stack) -> None:
    """static/app.js's formatTime against sidecar/zones.py's format_time, across the
    daylight-saving changes and on fixed offsets."""
    frame = open_sidecar(page, site)
    cases = [(epoch, zone) for epoch in (START, 1_772_953_140, 1_772_953_200, 1_793_511_000,
                                         1_793_514_600, 1_774_746_000)
             for zone in ("America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC",
                          "UTC-03:00", "US/Eastern")]
    got = frame.locator("body").evaluate(
        """(body, cases) => cases.map(([epoch, zone]) => [
             BkntcSms.formatTime(epoch, {zone: zone}),
             BkntcSms.formatTime(epoch, {zone: zone, date: false})])""", cases)
    for (epoch, zone), (whole, clock) in zip(cases, got, strict=True):
        tz = timezone(timedelta(hours=-3)) if zone == "UTC-03:00" else zone_named(zone)
        assert tz is not None
        assert whole == format_time(epoch, tz, zone), (epoch, zone)
        assert clock == format_time(epoch, tz, zone, with_date=False), (epoch, zone)


def test_a_user_who_cannot_send_sees_the_settings_read_only(page: Page, site: Stack) -> None:
    site.runtime.tenant_settings.update(None, {"attribution_days": 30})
    site.act_as(["sms_campaigns", "sms_campaigns_create"])
    frame = open_sidecar(page, site)
    goto_tab(frame, "settings")
    expect(frame.locator("#settings-readonly")).to_have_text(
        "You can see these settings; changing them needs the permission to send SMS.")
    expect(frame.locator("#st-attribution")).to_have_value("30")
    expect(frame.locator("#st-attribution")).to_be_disabled()
    expect(frame.locator("#st-country")).to_be_disabled()
    expect(frame.locator("#settings-save")).to_have_count(0)
    refused = call_api(frame, "PUT", "/api/v1/settings", {"attribution_days": 7})
    assert refused["status"] == 403, refused
    assert stored(site) == {"attribution_days": 30}
    screenshot(page, "settings-read-only")


# -- every time in the tenant's zone -----------------------------------------------------------


def test_every_page_shows_times_in_the_tenants_zone(page: Page, saas: Stack) -> None:
    rt = saas.runtime
    draft = rt.campaigns.create(1, {"name": "Autumn draft", "segment": "repeat",
                                    "body": "Hi {customer_first_name}", "filters": {}})
    sent = rt.campaigns.create(1, {"name": "Chicago hello", "segment": "booked_last_90",
                                   "body": "Hi {customer_first_name}", "filters": {}})
    rt.campaigns.send(1, sent["id"])
    wait_until(lambda: rt.campaigns.get(1, sent["id"])["status"] in ("completed", "failed"),
               SEND_TIMEOUT / 1000, "the campaign to finish")
    rt.templates.create(1, {"name": "Chicago template", "body": "Hello {customer_first_name}"})
    rt.suppressions.add(1, "+12025550143", "moved away")
    rt.oneoff.send_manual(1, "One-off hello", numbers="+12025550188")
    assert format_time(START, zone_named("America/Chicago"), "America/Chicago") == CHICAGO_TEXT

    frame = open_sidecar(page, saas)
    expect(row(frame, draft["id"]).locator(".when")).to_have_text(f"Created {CHICAGO_TEXT}")
    expect(row(frame, sent["id"]).locator(".when")).to_have_text(f"Finished {CHICAGO_TEXT}")
    screenshot(page, "campaigns-chicago")
    # The progress dialog formats in the browser, in the same zone.
    row(frame, sent["id"]).locator("[data-action=progress]").click()
    expect(frame.locator("#wizard-times")).to_have_text(
        f"Started {CHICAGO_TEXT}, finished {CHICAGO_TEXT}.")
    audit(page, "the progress dialog")
    frame.locator("#wizard-close").click()

    goto_tab(frame, "settings")
    expect(frame.locator("#settings-timezone")).to_contain_text(
        "Times are in America/Chicago (Booknetic's timezone for this business).")
    screenshot(page, "settings-saas-tenant")
    goto_tab(frame, "dashboard")
    expect(frame.locator("#recent-table tr", has_text="Chicago hello").locator("td").last
           ).to_have_text(CHICAGO_TEXT)
    expect(frame.locator("#chart-days")).to_have_text(
        "days are UTC days (midnight to midnight UTC)")
    goto_tab(frame, "templates")
    expect(frame.locator("#template-table tr", has_text="Chicago template").locator(".when")
           ).to_have_text(f"Updated {CHICAGO_TEXT}")
    goto_tab(frame, "suppressions")
    expect(frame.locator('#suppress-table tr[data-phone="+12025550143"] td:nth-child(4)')
           ).to_have_text(CHICAGO_TEXT)
    goto_tab(frame, "sms")
    expect(frame.locator("#oneoff-table tbody tr td").first).to_have_text(CHICAGO_TEXT)
    # The campaign's logs: every sent row at the stack's instant, in the tenant's zone.
    goto_tab(frame, "campaigns")
    mark_document(page)
    row(frame, sent["id"]).locator("[data-action=logs]").click()
    wait_for_new_document(page, "logs")
    sent_cells = frame.locator('#log-table tr[data-status="sent"] td[data-label="Sent at"]')
    expect(sent_cells.first).to_have_text(CHICAGO_TEXT)
    assert set(sent_cells.all_inner_texts()) == {CHICAGO_TEXT}
    screenshot(page, "logs-chicago")
